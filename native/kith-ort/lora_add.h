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
// Both products keep their running sums in registers and read each factor once: x·A in one pass over
// A's rows for up to 32 rank columns, (x·A)·B 32 output columns at a time over all r rank rows.
// Vector types are GCC's generic vectors, so the compiler picks SSE or AVX for whatever it targets.
#pragma once
#include <cstdint>
#include <cstring>

namespace kith {

typedef float v8 __attribute__((vector_size(32), aligned(4)));

struct LoraDims {
  int64_t rows, T, in, R, n, r, chunk;
};

__attribute__((always_inline)) inline v8 load8(const float* p) {
  v8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
__attribute__((always_inline)) inline void store8(float* p, v8 v) { std::memcpy(p, &v, sizeof v); }

// xa[k0..k0+8·NB) = x[0..in) · A[in, R][:, k0..]: NB blocks of 8 rank columns in one pass over A's
// rows (a row's R floats are contiguous, so one pass streams A once), U rows of A per iteration with
// their own partial sums so the adds of one sum do not wait on each other.
template <int NB, int U>
__attribute__((always_inline)) inline void x_times_a_blocks(const float* x, const float* A, int64_t in, int64_t R, int64_t k0, float* xa) {
  v8 s[U][NB] = {};
  int64_t j = 0;
  for (; j + U <= in; j += U)
    for (int u = 0; u < U; u++)
      for (int b = 0; b < NB; b++) s[u][b] += x[j + u] * load8(A + (j + u) * R + k0 + 8 * b);
  for (; j < in; j++)
    for (int b = 0; b < NB; b++) s[0][b] += x[j] * load8(A + j * R + k0 + 8 * b);
  for (int b = 0; b < NB; b++) {
    v8 t = s[0][b];
    for (int u = 1; u < U; u++) t += s[u][b];
    store8(xa + k0 + 8 * b, t);
  }
}

// xa[0..R) = x[0..in) · A[in, R].
__attribute__((always_inline)) inline void x_times_a(const float* x, const float* A, int64_t in, int64_t R, float* xa) {
  int64_t k = 0;
  for (; k + 32 <= R; k += 32) x_times_a_blocks<4, 2>(x, A, in, R, k, xa);
  switch ((R - k) / 8) {
    case 3: x_times_a_blocks<3, 2>(x, A, in, R, k, xa); k += 24; break;
    case 2: x_times_a_blocks<2, 2>(x, A, in, R, k, xa); k += 16; break;
    case 1: x_times_a_blocks<1, 4>(x, A, in, R, k, xa); k += 8; break;
    default: break;
  }
  for (; k < R; k++) {
    float t = 0.f;
    for (int64_t j = 0; j < in; j++) t += x[j] * A[j * R + k];
    xa[k] = t;
  }
}

// o[0..chunk) += s[0..r) · Bc[r, chunk]: 32 output columns at a time, so each s[k] is read once
// for four vectors and the four sums are independent.
__attribute__((always_inline)) inline void add_s_times_b(const float* s, const float* Bc, int64_t r, int64_t chunk, float* o) {
  int64_t q = 0;
  for (; q + 32 <= chunk; q += 32) {
    v8 a0 = load8(o + q), a1 = load8(o + q + 8), a2 = load8(o + q + 16), a3 = load8(o + q + 24);
    for (int64_t k = 0; k < r; k++) {
      const float sk = s[k];
      const float* b = Bc + k * chunk + q;
      a0 += sk * load8(b);
      a1 += sk * load8(b + 8);
      a2 += sk * load8(b + 16);
      a3 += sk * load8(b + 24);
    }
    store8(o + q, a0), store8(o + q + 8, a1), store8(o + q + 16, a2), store8(o + q + 24, a3);
  }
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
