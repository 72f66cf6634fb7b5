import { ModelError } from "./errors.ts";

// safetensors: u64 little-endian header length N, N bytes of JSON header
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {...}},
// then the raw little-endian tensor bytes (offsets are relative to the end of the header).

export type SafetensorsDtype = "F32" | "F16" | "BF16";
const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  file: string; // which file holds it (for error messages and sharded checkpoints)
  bytes: Uint8Array; // raw data view into the file buffer
}

/** Parse one safetensors file held in memory; `file` names it in errors. */
export function parseSafetensors(buf: Uint8Array, file: string): Map<string, TensorEntry> {
  if (buf.byteLength < 8) throw new ModelError(`${file}: truncated safetensors file (${buf.byteLength} bytes, header length missing)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > buf.byteLength - 8) {
    throw new ModelError(`${file}: truncated safetensors file (header says ${headerLen} header bytes, file has ${buf.byteLength - 8} after the length)`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new ModelError(`${file}: safetensors header is not valid JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + headerLen;
  const dataLen = buf.byteLength - dataStart;
  const out = new Map<string, TensorEntry>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = info.dtype as SafetensorsDtype;
    if (!(typeof dtype === "string" && dtype in BYTES)) {
      throw new ModelError(`${file}: tensor "${name}" has dtype ${JSON.stringify(info.dtype)}. Should be one of: ${Object.keys(BYTES).join(", ")}`);
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ModelError(`${file}: tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    const offs = info.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0) || offs[1] < offs[0]) {
      throw new ModelError(`${file}: tensor "${name}" has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    const want = (shape as number[]).reduce((a, b) => a * b, 1) * BYTES[dtype];
    if (end - begin !== want) {
      throw new ModelError(`${file}: tensor "${name}" ${dtype}${JSON.stringify(shape)} needs ${want} bytes but data_offsets span ${end - begin}`);
    }
    if (end > dataLen) {
      throw new ModelError(`${file}: truncated safetensors file: tensor "${name}" ends at byte ${end} of the data section but only ${dataLen} bytes are present`);
    }
    out.set(name, { name, dtype, shape: shape as number[], file, bytes: buf.subarray(dataStart + begin, dataStart + end) });
  }
  return out;
}

/** Decode a tensor to float32 (copying only when needed: f16/bf16, or an unaligned f32 view). */
export function toFloat32(t: TensorEntry): Float32Array {
  const n = t.bytes.byteLength / BYTES[t.dtype];
  if (t.dtype === "F32") {
    if (t.bytes.byteOffset % 4 === 0) return new Float32Array(t.bytes.buffer, t.bytes.byteOffset, n);
    return new Float32Array(t.bytes.slice().buffer);
  }
  const out = new Float32Array(n);
  const u16 = t.bytes.byteOffset % 2 === 0 ? new Uint16Array(t.bytes.buffer, t.bytes.byteOffset, n) : new Uint16Array(t.bytes.slice().buffer);
  if (t.dtype === "BF16") {
    // bf16 is the top half of an f32.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) bits[i] = u16[i] << 16;
  } else {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(u16[i]);
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** All tensors of a checkpoint (one file or several shards), decoded to f32 on request. */
export class WeightStore {
  constructor(private readonly entries: Map<string, TensorEntry>) {}

  has(name: string): boolean {
    return this.entries.has(name);
  }
  names(): string[] {
    return [...this.entries.keys()];
  }
  /** Raw entry (dtype, shape, bytes) without decoding. */
  entry(name: string): TensorEntry {
    const e = this.entries.get(name);
    if (!e) throw new ModelError(`missing tensor "${name}" in the model weights`);
    return e;
  }
  /** Decoded f32 data; throws ModelError when absent or when the shape differs from `expect`. */
  get(name: string, expect?: number[]): { shape: number[]; data: Float32Array } {
    const e = this.entry(name);
    if (expect && (expect.length !== e.shape.length || expect.some((d, i) => d !== e.shape[i]))) {
      throw new ModelError(`${e.file}: tensor "${name}" has shape ${JSON.stringify(e.shape)}, expected ${JSON.stringify(expect)}`);
    }
    return { shape: e.shape, data: toFloat32(e) };
  }
}
