// Smoke test of the tensor addon built by build.sh: it must load, run sgemm in all four transpose
// layouts (offsets, leading dimensions, alpha/beta) and match a float64 triple loop.
// Usage: node packages/tensor/native/smoke.cjs <path to embedflow_tensor.node>
"use strict"
const assert = require("node:assert/strict")
const addon = require(process.argv[2])

let s = 12345 // Park-Miller LCG: reproducible without Math.random
const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5
const m = 13, n = 7, k = 11, pad = 3, off = 5
for (const transA of [false, true]) {
  for (const transB of [false, true]) {
    const [ar, ac] = transA ? [k, m] : [m, k]
    const [br, bc] = transB ? [n, k] : [k, n]
    const lda = ac + pad, ldb = bc + pad, ldc = n + pad
    const a = new Float32Array(off + ar * lda).map(rnd), b = new Float32Array(off + br * ldb).map(rnd)
    const c = new Float32Array(off + m * ldc).map(rnd), c0 = c.slice()
    addon.sgemm(transA, transB, m, n, k, 0.75, a, off, lda, b, off, ldb, 0.5, c, off, ldc)
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0
        for (let p = 0; p < k; p++) {
          acc += a[off + (transA ? p * lda + i : i * lda + p)] * b[off + (transB ? j * ldb + p : p * ldb + j)]
        }
        const want = 0.75 * acc + 0.5 * c0[off + i * ldc + j]
        assert.ok(Math.abs(c[off + i * ldc + j] - want) < 1e-5, `sgemm transA=${transA} transB=${transB} (${i}, ${j})`)
      }
    }
  }
}
console.error(`[tensor-native] smoke ok: ${addon.library}, ${addon.getThreads()} threads`)
