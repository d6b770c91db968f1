/**
 * Training-step throughput of @embedflow/tensor on cached 384-d embeddings, against the same step in
 * PyTorch CPU (bench/py/infonce_step.py) at the same thread count, in alternating windows of this run.
 * One step is what contrastive-trainer runs per batch: zero grads, the head, embeddingPairLoss (tensor's
 * pairInfoNce, the trainer's loss), backward, global-norm clipping and the AdamW update:
 * gather the batch rows, head forward, L2 norm, cosine matrix, masked InfoNCE (τ = 0.05), backward,
 * global-norm clipping to 1, AdamW (lr 1e-3, weight decay 0.01) — for batch 64 anchors x (64
 * positives ++ 64 hard negatives), ~2% masked false negatives, with a Linear 384x384 head and a LowRank
 * residual adapter (rank 16). GFLOP/s counts the matrix-product FLOPs (2·m·n·k each) of the step.
 *
 *   node --conditions=source --import tsx bench/src/train-step.bench.ts [seconds-per-window=0.6]
 */
import {
  AdamW, type Backend, clipGradNorm, embeddingPairLoss, gatherRows, getBackend, type Head, Linear, LowRankResidualAdapter, matrix, Rng, setBackend,
  tsBackend
} from "@embedflow/tensor"
import { compare, TorchPeer } from "./torchPeer.js"

const seconds = Number(process.argv[2] ?? 0.6)
const D = 384, B = 64, H = 64, RANK = 16, POOL = 8192

const rng = new Rng(7)
const cache = {
  anchors: matrix(POOL, D, rng.fillNormal(new Float32Array(POOL * D))),
  positives: matrix(POOL, D, rng.fillNormal(new Float32Array(POOL * D))),
  negatives: matrix(POOL, D, rng.fillNormal(new Float32Array(POOL * D)))
}

const rows = B + B + H
const cosineFlops = 3 * 2 * B * (B + H) * D // S = Â·B̂ᵀ, dÂ = dS·B̂, dB̂ = dSᵀ·Â
const heads = [
  { name: "Linear 384x384", peer: "linear", make: () => Linear.make({ inputDim: D, outputDim: D, init: "identity" }), flops: 3 * 2 * rows * D * D + cosineFlops },
  { name: `LowRank r=${RANK}`, peer: "lowrank", make: () => LowRankResidualAdapter.make({ dim: D, rank: RANK, seed: 1 }), flops: 6 * 2 * rows * D * RANK + cosineFlops }
] as const

/** One trainer step per call, with a fresh head and optimizer. */
const stepper = (make: () => Head): (() => void) => {
  const head = make()
  const optimizer = new AdamW(head.params(), { lr: 1e-3 })
  const stepRng = new Rng(1)
  return () => {
    const idx = stepRng.sample(POOL, B)
    const neg = stepRng.sample(POOL, H)
    const mask = new Uint8Array(B * (B + H))
    for (let k = 0; k < mask.length; k += 53) mask[k] = 1 // ~2% masked false negatives
    optimizer.zeroGrad()
    const out = embeddingPairLoss(head, { anchors: gatherRows(cache.anchors, idx), positives: gatherRows(cache.positives, idx), negatives: gatherRows(cache.negatives, neg), mask }, { temperature: 0.05 })
    out.backward()
    clipGradNorm(head.params(), 1)
    optimizer.step()
  }
}

const selected = getBackend()
const native = selected.name === "native" ? selected : undefined
console.log(`train step: batch ${B} anchors x (${B} positives + ${H} hard negatives), d=${D}, best of 5 alternating ${seconds}s windows; ${selected.description}`)
for (const threads of native ? [1, 2] : [1]) {
  const peer = await TorchPeer.start("infonce_step.py", threads)
  native?.setThreads(threads)
  for (const h of heads) {
    const backends: ReadonlyArray<Backend> = threads === 1 && native ? [native, tsBackend] : [selected]
    for (const backend of backends) {
      setBackend(backend)
      const r = await compare(stepper(h.make), peer, h.peer, seconds)
      const examples = r.ours * B
      console.log(
        `  ${h.name.padEnd(16)} threads=${threads} ${backend.name.padEnd(6)} ${examples.toFixed(0).padStart(7)} examples/s  ${((r.ours * h.flops) / 1e9).toFixed(2).padStart(6)} GFLOP/s` +
          (r.peer === undefined ? "  PyTorch: skipped" : `  PyTorch ${peer!.torchVersion} ${(r.peer * B).toFixed(0).padStart(6)} examples/s  ratio ${(examples / (r.peer * B)).toFixed(2)}x`)
      )
    }
    setBackend(selected)
  }
  peer?.close()
}
