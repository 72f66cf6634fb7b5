// Everything wrong with an adapter pack or a gate pack: the message names the pack (its folder),
// the file, and the field or tensor. The bank catches these per pack, so one bad pack never stops
// the other characters.
export class AdapterError extends Error {
  override readonly name = "AdapterError";
  constructor(message: string) {
    super(message);
  }
}
