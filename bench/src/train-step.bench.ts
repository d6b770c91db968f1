/**
 * Training-step throughput of @embedflow/tensor on cached 384-d embeddings: one InfoNCE step
 * (head forward + L2 norm + cosine matrix + masked InfoNCE + backward + global-norm clipping + AdamW)
 * for batch 64 anchors x (64 positives ++ 64 hard negatives), with a Linear 384x384 head and a
 * LowRank residual adapter (rank 16). GFLOP/s counts the matrix-product FLOPs (2·m·n·k each) of the step.
 *
 * Baseline measured in the same run: the matmul kernels against a naive i-j-p triple loop
 * (dot product down a column of B) on the step's main shape, 192 x 384 · 384 x 384.
 *
 *   node --conditions=source --import tsx bench/src/train-step.bench.ts [seconds-per-measurement=2]
 */
import {
  AdamW, clipGradNorm, embeddingPairLoss, gatherRows, type Head, Linear, LowRankResidualAdapter, type Matrix, matmul,
  matmulABt, matmulAtB, matrix, Rng, transpose
} from "@embedflow/tensor"

const seconds = Number(process.argv[2] ?? 2)
const D = 384, B = 64, H = 64, RANK = 16, POOL = 8192

const rng = new Rng(7)
const cache = {
  anchors: matrix(POOL, D, rng.fillNormal(new Float32Array(POOL * D))),
  positives: matrix(POOL, D, rng.fillNormal(new Float32Array(POOL * D))),
  negatives: matrix(POOL, D, rng.fillNormal(new Float32Array(POOL * D)))
}

/** Runs `f` repeatedly for about `seconds` after a warm-up; returns calls per second. */
const rate = (f: () => void, minSeconds = seconds): number => {
  for (let i = 0; i < 5; i++) f()
  let calls = 0
  const t0 = performance.now()
  let elapsed = 0
  while (elapsed < minSeconds * 1000) {
    f()
    calls++
    elapsed = performance.now() - t0
  }
  return calls / (elapsed / 1000)
}

const rows = B + B + H
const cosineFlops = 3 * 2 * B * (B + H) * D // S = Â·B̂ᵀ, dÂ = dS·B̂, dB̂ = dSᵀ·Â
const headFlops = {
  linear: 3 * 2 * rows * D * D, // y = x·W, dW = xᵀ·dY, dX = dY·Wᵀ
  lowRank: 6 * 2 * rows * D * RANK // h = x·D, y += h·U, dU, dH, dD, dX
}

const step = (head: Head, opt: AdamW, stepRng: Rng) => {
  const idx = stepRng.sample(POOL, B)
  const neg = stepRng.sample(POOL, H)
  const mask = new Uint8Array(B * (B + H))
  for (let k = 0; k < mask.length; k += 53) mask[k] = 1 // ~2% masked false negatives
  opt.zeroGrad()
  const out = embeddingPairLoss(
    head,
    { anchors: gatherRows(cache.anchors, idx), positives: gatherRows(cache.positives, idx), negatives: gatherRows(cache.negatives, neg), mask },
    { temperature: 0.05 }
  )
  out.backward()
  clipGradNorm(head.params(), 1)
  opt.step()
}

console.log(`train step: batch ${B} anchors x (${B} positives + ${H} hard negatives), d=${D}, ${seconds}s per measurement`)
for (const [name, head, flops] of [
  ["Linear 384x384", Linear.make({ inputDim: D, outputDim: D, init: "identity" }), headFlops.linear + cosineFlops],
  [`LowRank r=${RANK}`, LowRankResidualAdapter.make({ dim: D, rank: RANK, seed: 1 }), headFlops.lowRank + cosineFlops]
] as const) {
  const opt = new AdamW(head.params(), { lr: 1e-3 })
  const stepRng = new Rng(1)
  const steps = rate(() => step(head, opt, stepRng))
  console.log(
    `  ${name.padEnd(16)} ${(steps * B).toFixed(0).padStart(7)} examples/s  ${steps.toFixed(1).padStart(6)} steps/s  ` +
      `${((steps * flops) / 1e9).toFixed(2)} GFLOP/s (${(flops / 1e6).toFixed(1)} MFLOP/step)`
  )
}

// Matmul kernels against a naive triple loop on the Linear head's forward shape.
const naive = (a: Matrix, b: Matrix, c: Matrix) => {
  const { rows: m, cols: k } = a, n = b.cols
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0
      for (let p = 0; p < k; p++) s += a.data[i * k + p] * b.data[p * n + j]
      c.data[i * n + j] = s
    }
  }
}
const a = matrix(rows, D, rng.fillNormal(new Float32Array(rows * D)))
const w = matrix(D, D, rng.fillNormal(new Float32Array(D * D)))
const aT = transpose(a), wT = transpose(w)
const out = matrix(rows, D)
const reference = matrix(rows, D)
naive(a, w, reference)
let maxErr = 0
for (const c of [matmul(a, w), matmulABt(a, wT), matmulAtB(aT, w)]) {
  for (let i = 0; i < c.data.length; i++) maxErr = Math.max(maxErr, Math.abs(c.data[i] - reference.data[i]))
}
const mmFlops = 2 * rows * D * D
const gflops = (f: () => void) => (rate(f) * mmFlops) / 1e9
const base = gflops(() => naive(a, w, out))
console.log(`matmul ${rows}x${D} · ${D}x${D} (all variants agree with the naive loop to ${maxErr.toExponential(1)}):`)
console.log(`  naive i-j-p loop  ${base.toFixed(2)} GFLOP/s  (baseline)`)
for (const [name, f] of [
  ["matmul A·B", () => matmul(a, w, { out })],
  ["matmulABt A·Bᵀ", () => matmulABt(a, wT, { out })],
  ["matmulAtB Aᵀ·B", () => matmulAtB(aT, w, { out })]
] as const) {
  const g = gflops(f)
  console.log(`  ${name.padEnd(16)}  ${g.toFixed(2)} GFLOP/s  ${(g / base).toFixed(1)}x naive`)
}
