// Encoded-size estimate of a decoded message payload, in bytes (msgpack-like: what it cost on the
// wire, to within a few bytes). Stops counting once past `limit`, so a huge payload costs little.

export function payloadBytesAtMost(value: unknown, limit: number): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && total <= limit) {
    const v = stack.pop();
    if (v === null || v === undefined || typeof v === "boolean") total += 1;
    else if (typeof v === "number") total += 9;
    else if (typeof v === "string") total += 5 + utf8Length(v);
    else if (typeof v === "bigint") total += 9;
    else if (v instanceof Uint8Array) total += 5 + v.byteLength;
    else if (Array.isArray(v)) { total += 5; for (const item of v) stack.push(item); }
    else if (typeof v === "object") {
      total += 5;
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) { total += 5 + utf8Length(k); stack.push(item); }
    } else total += 1;
  }
  return total;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) { n += 4; i++; }
    else n += 3;
  }
  return n;
}
