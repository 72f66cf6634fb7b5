import { ProtoWriter } from "./proto.ts";

// A small ONNX graph builder: nodes, initializers, typed inputs/outputs, serialized to ModelProto
// bytes with ProtoWriter. Field numbers follow onnx/onnx.proto (IR version 8).

export const OPSET = 17;
const IR_VERSION = 8;

export type ElemType = "float32" | "int64" | "int32" | "bool" | "int8" | "uint8";
const ELEM: Record<ElemType, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9 };

/** A dimension: fixed size or a symbolic name ("batch", "seq", ...). */
export type Dim = number | string;

export type Attr =
  | { i: number }
  | { f: number }
  | { ints: number[] }
  | { s: string };

interface NodeDef {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
  domain?: string;
}
interface ValueDef {
  name: string;
  type: ElemType;
  dims: Dim[];
}
interface InitDef {
  name: string;
  type: ElemType;
  dims: number[];
  raw: Uint8Array;
}

export class GraphBuilder {
  private nodes: NodeDef[] = [];
  private inits: InitDef[] = [];
  private inputs: ValueDef[] = [];
  private outputs: ValueDef[] = [];
  private counter = 0;
  private constCache = new Map<string, string>();
  private domains = new Set<string>();

  constructor(readonly name: string) {}

  input(name: string, type: ElemType, dims: Dim[]): string {
    this.inputs.push({ name, type, dims });
    return name;
  }
  output(name: string, type: ElemType, dims: Dim[]): void {
    this.outputs.push({ name, type, dims });
  }
  /** Weight or constant stored in the model (little-endian raw_data). */
  init(name: string, type: ElemType, dims: number[], data: Float32Array | BigInt64Array | Int32Array | Uint8Array | Int8Array): string {
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.inits.push({ name, type, dims, raw });
    return name;
  }
  /** Shared small int64 constant (shapes, axes, split sizes). */
  ints(values: number[], scalar = false): string {
    const key = `i64:${scalar}:${values.join(",")}`;
    let n = this.constCache.get(key);
    if (!n) {
      n = this.init(`const_${this.constCache.size}_i64`, "int64", scalar ? [] : [values.length], BigInt64Array.from(values.map(BigInt)));
      this.constCache.set(key, n);
    }
    return n;
  }
  /** Shared small float constant. */
  floats(values: number[], scalar = false): string {
    const key = `f32:${scalar}:${values.join(",")}`;
    let n = this.constCache.get(key);
    if (!n) {
      n = this.init(`const_${this.constCache.size}_f32`, "float32", scalar ? [] : [values.length], Float32Array.from(values));
      this.constCache.set(key, n);
    }
    return n;
  }

  /** Add a node with one output; returns the output name (given or generated). */
  op(op: string, inputs: string[], attrs: Record<string, Attr> = {}, output?: string): string {
    return this.opN(op, inputs, 1, attrs, output ? [output] : undefined)[0];
  }
  opN(op: string, inputs: string[], n: number, attrs: Record<string, Attr> = {}, outputs?: string[], domain?: string): string[] {
    const id = this.counter++;
    const outs = outputs ?? Array.from({ length: n }, (_, k) => `${op.toLowerCase()}_${id}${n > 1 ? `_${k}` : ""}`);
    this.nodes.push({ op, inputs, outputs: outs, attrs, domain });
    if (domain) this.domains.add(domain);
    return outs;
  }
  /** A one-output node of an operator outside the standard domain (imported at version 1); the
   *  session that runs the graph must have that domain registered. */
  opIn(domain: string, op: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    return this.opN(op, inputs, 1, attrs, undefined, domain)[0];
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  serialize(producerVersion: string): Uint8Array {
    const g = new ProtoWriter();
    this.nodes.forEach((n, k) => g.message(1, nodeProto(n, k)));
    g.string(2, this.name);
    for (const t of this.inits) g.message(5, tensorProto(t));
    for (const v of this.inputs) g.message(11, valueInfo(v));
    for (const v of this.outputs) g.message(12, valueInfo(v));

    const m = new ProtoWriter();
    m.int(1, IR_VERSION);
    m.string(2, "kith");
    m.string(3, producerVersion);
    m.message(7, g);
    m.message(8, new ProtoWriter().int(2, OPSET)); // default domain ""
    for (const d of this.domains) m.message(8, new ProtoWriter().string(1, d).int(2, 1));
    return m.finish();
  }
}

function nodeProto(n: NodeDef, k: number): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, `${n.op}_${k}`);
  w.string(4, n.op);
  for (const [name, a] of Object.entries(n.attrs)) w.message(5, attrProto(name, a));
  if (n.domain) w.string(7, n.domain);
  return w;
}

// AttributeProto: name=1, f=2, i=3, s=4, ints=8, type=20 (FLOAT=1, INT=2, STRING=3, INTS=7).
function attrProto(name: string, a: Attr): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if ("i" in a) w.int(3, a.i).int(20, 2);
  else if ("f" in a) w.float(2, a.f).int(20, 1);
  else if ("ints" in a) w.packedInts(8, a.ints).int(20, 7);
  else w.string(4, a.s).int(20, 3);
  return w;
}

// TensorProto: dims=1, data_type=2, name=8, raw_data=9.
function tensorProto(t: InitDef): ProtoWriter {
  const w = new ProtoWriter();
  if (t.dims.length) w.packedInts(1, t.dims);
  w.int(2, ELEM[t.type]);
  w.string(8, t.name);
  w.bytes(9, t.raw);
  return w;
}

// ValueInfoProto{name=1, type=2}; TypeProto{tensor_type=1}; Tensor{elem_type=1, shape=2};
// TensorShapeProto{dim=1}; Dimension{dim_value=1, dim_param=2}.
function valueInfo(v: ValueDef): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) shape.message(1, typeof d === "number" ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  const tensor = new ProtoWriter().int(1, ELEM[v.type]).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensor));
}
