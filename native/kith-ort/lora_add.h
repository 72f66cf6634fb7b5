// The batched LoRA update as one kernel: out = y + (x·A_row)·B_row for every row of the batch, each
// row with its own low-rank factors. This replaces, per LoRA group and layer, the two batched MatMuls,
// the Add and the reshapes the standard-operator graph needs (core/runtime/onnx/decoder-graph.ts).
//
// Shapes (f32, row-major):
//   y    [rows, T, n·chunk]   the base projection's output
//   x    [rows, T, in]        the projection's input
//   A    [rows, in, R]        R = m·r: the group's m targets' A side by side along the rank axis
//   B    [rows, n, r, chunk]  output chunk c reads rank columns [t·r, (t+1)·r) with t = target[c]
//                             (a single-target group is n = 1, r = R, chunk = the output width)
//   out  [rows, T, n·chunk]   may be y itself (updated in place)
// R = 0 (no adapter in the batch) copies y.
//
// Both products keep their running sums in registers: x·A walks x once per block of 8 rank columns
// with four independent partial sums (the adds of one sum would otherwise wait on each other), and
// (x·A)·B walks each 8-column block of the output once over all r rank rows. Vector types are GCC's
// generic vectors, so the compiler picks SSE or AVX for whatever it targets.
#pragma once
#include <cstdint>
#include <cstring>

namespace kith {

typedef float v8 __attribute__((vector_size(32), aligned(4)));

struct LoraDims {
  int64_t rows, T, in, R, n, r, chunk;
};

inline v8 load8(const float* p) {
  v8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store8(float* p, v8 v) { std::memcpy(p, &v, sizeof v); }

// xa[0..R) = x[0..in) · A[in, R].
inline void x_times_a(const float* x, const float* A, int64_t in, int64_t R, float* xa) {
  int64_t k = 0;
  for (; k + 8 <= R; k += 8) {
    v8 s0 = {}, s1 = {}, s2 = {}, s3 = {};
    int64_t j = 0;
    for (; j + 4 <= in; j += 4) {
      s0 += x[j] * load8(A + j * R + k);
      s1 += x[j + 1] * load8(A + (j + 1) * R + k);
      s2 += x[j + 2] * load8(A + (j + 2) * R + k);
      s3 += x[j + 3] * load8(A + (j + 3) * R + k);
    }
    for (; j < in; j++) s0 += x[j] * load8(A + j * R + k);
    store8(xa + k, (s0 + s1) + (s2 + s3));
  }
  for (; k < R; k++) {
    float s = 0.f;
    for (int64_t j = 0; j < in; j++) s += x[j] * A[j * R + k];
    xa[k] = s;
  }
}

// o[0..chunk) += s[0..r) · Bc[r, chunk].
inline void add_s_times_b(const float* s, const float* Bc, int64_t r, int64_t chunk, float* o) {
  int64_t q = 0;
  for (; q + 8 <= chunk; q += 8) {
    v8 acc = load8(o + q);
    for (int64_t k = 0; k < r; k++) acc += s[k] * load8(Bc + k * chunk + q);
    store8(o + q, acc);
  }
  for (; q < chunk; q++) {
    float acc = o[q];
    for (int64_t k = 0; k < r; k++) acc += s[k] * Bc[k * chunk + q];
    o[q] = acc;
  }
}

// Rows [row0, row1) of the update. xa is scratch of at least R floats. On x86-64 the compiler makes
// an AVX2+FMA copy next to the baseline one and the loader picks by CPU, so one build runs anywhere
// and uses the wider units where they exist (about 2.5× faster on the decode shapes).
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
inline void lora_add_rows(const LoraDims& d, const float* y, const float* x, const float* A, const float* B,
                          const int64_t* target, float* out, int64_t row0, int64_t row1, float* xa) {
  const int64_t width = d.n * d.chunk;
  for (int64_t b = row0; b < row1; b++) {
    const float* Ab = A + b * d.in * d.R;
    const float* Bb = B + b * d.n * d.r * d.chunk;
    for (int64_t t = 0; t < d.T; t++) {
      const int64_t at = b * d.T + t;
      float* o = out + at * width;
      if (o != y + at * width) std::memcpy(o, y + at * width, sizeof(float) * width);
      if (d.R == 0) continue;
      x_times_a(x + at * d.in, Ab, d.in, d.R, xa);
      for (int64_t c = 0; c < d.n; c++) add_s_times_b(xa + target[c] * d.r, Bb + c * d.r * d.chunk, d.r, d.chunk, o + c * d.chunk);
    }
  }
}

}  // namespace kith
