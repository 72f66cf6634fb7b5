// Adapter factors live in shared memory where the platform has it (Node; a cross-origin-isolated
// page). The server folds a reply's mixture on the room's thread and posts it to the model's worker
// thread: plain arrays are copied by that post (a 3-adapter mixture of the default model, 2.8 MB:
// 8–20 ms on the room's thread; of a SmolLM-135M-sized model, 28 MB: 85–210 ms), shared ones are
// not (under 1 ms), and the worker reads the same memory. Factors are never written after they are
// made, so sharing them is safe.

/** A zero-filled Float32Array of n elements, on a SharedArrayBuffer when there is one. */
export function factorArray(n: number): Float32Array {
  // Browsers define SharedArrayBuffer only on cross-origin-isolated pages.
  return typeof SharedArrayBuffer === "function" ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n);
}
