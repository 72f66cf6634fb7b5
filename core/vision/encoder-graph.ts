import { GraphBuilder } from "../runtime/onnx/graph.ts";
import { encoderConvs, type VisionPackage } from "./manifest.ts";

// The vision encoder as one ONNX graph (opset 17): Sub 0.5 → (Conv 3×3 → Relu) × 5 → Conv 1×1 →
// Clip ±limit → [B, D, 8·8] → Transpose → features [B, 64, D]. Same math as training/vision/model.py.
//   input  pixels    [batch, 3, 64, 64] f32, 0..1, row 0 = top
//   output features  [batch, 64, D]     f32, cells row-major from the top-left

export function buildEncoderGraph(pkg: VisionPackage): Uint8Array {
  const { manifest: m, encoderWeights: w } = pkg;
  const g = new GraphBuilder("kith_vision_encoder");
  const px = g.input("pixels", "float32", ["batch", 3, m.image_size, m.image_size]);
  let x = g.op("Sub", [px, g.floats([0.5], true)]);
  const convs = encoderConvs(m);
  convs.forEach(([cin, cout, stride], k) => {
    const W = g.init(`conv${k}.weight`, "float32", [cout, cin, 3, 3], w.get(`conv${k}.weight`).data);
    const b = g.init(`conv${k}.bias`, "float32", [cout], w.get(`conv${k}.bias`).data);
    x = g.op("Relu", [g.op("Conv", [x, W, b], { kernel_shape: { ints: [3, 3] }, strides: { ints: [stride, stride] }, pads: { ints: [1, 1, 1, 1] } })]);
  });
  const last = convs[convs.length - 1][1];
  const Wo = g.init("out.weight", "float32", [m.feature_dim, last, 1, 1], w.get("out.weight").data);
  const bo = g.init("out.bias", "float32", [m.feature_dim], w.get("out.bias").data);
  const y = g.op("Clip", [g.op("Conv", [x, Wo, bo], { kernel_shape: { ints: [1, 1] } }), g.floats([-m.feature_limit], true), g.floats([m.feature_limit], true)]);
  const flat = g.op("Reshape", [y, g.ints([0, m.feature_dim, m.grid * m.grid])]);
  g.op("Transpose", [flat], { perm: { ints: [0, 2, 1] } }, "features");
  g.output("features", "float32", ["batch", m.grid * m.grid, m.feature_dim]);
  return g.serialize("vision-encoder v1");
}
