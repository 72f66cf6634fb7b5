import { readFileSync, writeFileSync } from "node:fs";

// Tiny f32 safetensors read/write for tests that edit adapter files.
export function readSafe(path: string): Record<string, Float32Array> {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8"));
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(header) as [string, { data_offsets: [number, number] }][]) {
    if (k === "__metadata__") continue;
    const b = buf.subarray(8 + n + v.data_offsets[0], 8 + n + v.data_offsets[1]);
    out[k] = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  }
  return out;
}

export function writeSafe(path: string, tensors: Record<string, Float32Array>, shapeOf: (name: string) => number[]): void {
  const header: Record<string, unknown> = {};
  let off = 0;
  const names = Object.keys(tensors).sort();
  for (const k of names) {
    header[k] = { dtype: "F32", shape: shapeOf(k), data_offsets: [off, off + tensors[k].byteLength] };
    off += tensors[k].byteLength;
  }
  let h = Buffer.from(JSON.stringify(header));
  h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeFileSync(path, Buffer.concat([len, h, ...names.map((k) => Buffer.from(tensors[k].buffer, tensors[k].byteOffset, tensors[k].byteLength))]));
}
