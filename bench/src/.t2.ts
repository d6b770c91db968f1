import { AdamW, EmbeddingPairTrainer, gatherRows, getBackend, Linear, matrix, Rng } from "@embedflow/tensor"
import { window } from "./torchPeer.js"
const D = 384, B = 64, H = 64, POOL = 8192
const rng = new Rng(7)
const mk = () => matrix(POOL, D, rng.fillNormal(new Float32Array(POOL * D)))
const cache = { anchors: mk(), positives: mk(), negatives: mk() }
const head = Linear.make({ inputDim: D, outputDim: D, init: "identity" })
const trainer = new EmbeddingPairTrainer(head, { optimizer: new AdamW(head.params(), { lr: 1e-3 }), temperature: 0.05, maxGradNorm: 1 })
const stepRng = new Rng(1)
const step = () => {
  const idx = stepRng.sample(POOL, B), neg = stepRng.sample(POOL, H)
  const mask = new Uint8Array(B * (B + H)); for (let k = 0; k < mask.length; k += 53) mask[k] = 1
  trainer.step({ anchors: gatherRows(cache.anchors, idx), positives: gatherRows(cache.positives, idx), negatives: gatherRows(cache.negatives, neg), mask })
}
for (let r = 0; r < 3; r++) for (const t of [1, 2]) { getBackend().setThreads(t); console.log(t, (window(step, 1) * B).toFixed(0)) }
