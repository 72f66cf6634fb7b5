// One error type for everything wrong with a model package or a request to the decoder, so callers
// can tell "your model files are bad" from a bug. The message always names the file / tensor / field.
export class ModelError extends Error {
  override readonly name = "ModelError";
  constructor(message: string) {
    super(message);
  }
}
