/**
 * End to end on a seeded synthetic retrieval task: cached "embeddings" whose shared signal lives in a
 * few latent directions, buried under larger independent nuisance directions and mixed by a random
 * linear map. Raw cosine retrieval is poor; a Linear head trained with masked InfoNCE + AdamW should
 * learn to project the nuisance out.
 */
import { describe, expect, it } from "vitest"
import {
  AdamW, assertFinite, clipGradNorm, cosineMatrix, EarlyStopping, embeddingPairLoss, gatherRows, type Head,
  learningRateSchedule, Linear, type Matrix, matmul, matrix, NonFiniteError, Rng
} from "../src/index.js"

const D = 32, SIGNAL = 6

const makePairs = (n: number, rng: Rng, mix: Matrix): { anchors: Matrix; positives: Matrix } => {
  const side = () => matrix(n, D)
  const a = side(), p = side()
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < SIGNAL; k++) {
      const u = rng.normal()
      a.data[i * D + k] = u + rng.normal(0, 0.1)
      p.data[i * D + k] = u + rng.normal(0, 0.1)
    }
    for (let k = SIGNAL; k < D; k++) {
      a.data[i * D + k] = rng.normal(0, 1.2)
      p.data[i * D + k] = rng.normal(0, 1.2)
    }
  }
  return { anchors: matmul(a, mix), positives: matmul(p, mix) }
}

/** Top-1 accuracy of retrieving each anchor's positive among all positives, after the head. */
const retrievalAccuracy = (head: Head | undefined, anchors: Matrix, positives: Matrix): number => {
  const s = cosineMatrix(head ? head.predict(anchors) : anchors, head ? head.predict(positives) : positives).scores
  let correct = 0
  for (let i = 0; i < s.rows; i++) {
    let best = 0
    for (let j = 1; j < s.cols; j++) if (s.data[i * s.cols + j] > s.data[i * s.cols + best]) best = j
    if (best === i) correct++
  }
  return correct / s.rows
}

const setup = () => {
  const rng = new Rng(2024)
  const mix = rng.fillNormal(new Float32Array(D * D), 0, 1 / Math.sqrt(D))
  const mixM = matrix(D, D, mix)
  return { rng, train: makePairs(2048, rng, mixM), dev: makePairs(128, rng, mixM), test: makePairs(256, rng, mixM) }
}

describe("training a Linear head with InfoNCE", () => {
  it("reduces the loss and improves held-out retrieval accuracy (seeded, reproducible)", () => {
    const run = () => {
      const { rng, train, dev, test } = setup()
      const head = Linear.make({ inputDim: D, outputDim: D, init: "identity" })
      const epochs = 4, batch = 64, stepsPerEpoch = train.anchors.rows / batch
      const opt = new AdamW(head.params(), { lr: 0, weightDecay: 0.01 })
      const lr = learningRateSchedule({ peakLr: 0.02, warmupSteps: 10, totalSteps: epochs * stepsPerEpoch, decay: "cosine" })
      const stopper = new EarlyStopping({ patience: 3, mode: "max" })
      const devLoss = () => embeddingPairLoss(head, dev, { temperature: 0.05 }).loss
      const before = { test: retrievalAccuracy(head, test.anchors, test.positives), devLoss: devLoss() }
      let step = 0
      const epochLosses: Array<number> = []
      for (let epoch = 0; epoch < epochs; epoch++) {
        const order = rng.permutation(train.anchors.rows)
        let sum = 0
        for (let b = 0; b < stepsPerEpoch; b++) {
          const idx = order.subarray(b * batch, (b + 1) * batch)
          opt.zeroGrad()
          const out = embeddingPairLoss(head, { anchors: gatherRows(train.anchors, idx), positives: gatherRows(train.positives, idx) }, { temperature: 0.05 })
          assertFinite(out.loss, step)
          out.backward()
          clipGradNorm(head.params(), 5)
          opt.step(lr(step++))
          sum += out.loss
        }
        epochLosses.push(sum / stepsPerEpoch)
        if (stopper.update(retrievalAccuracy(head, dev.anchors, dev.positives), head.params()).shouldStop) break
      }
      stopper.restoreBest(head.params())
      return { before, after: { test: retrievalAccuracy(head, test.anchors, test.positives), devLoss: devLoss() }, epochLosses, weights: Array.from(head.weight.value) }
    }
    const r = run()
    expect(r.after.devLoss).toBeLessThan(r.before.devLoss * 0.6)
    expect(r.epochLosses[r.epochLosses.length - 1]).toBeLessThan(r.epochLosses[0])
    expect(r.before.test).toBeLessThan(0.2)
    expect(r.after.test).toBeGreaterThan(r.before.test + 0.4) // measured: 0.04 -> 0.64 of 256 candidates
    // Seeded end to end: a second run is bit-identical.
    expect(run().weights).toEqual(r.weights)
  })

  it("assertFinite names the step in a hand-written loop", () => {
    const { train } = setup()
    const head = Linear.make({ inputDim: D, outputDim: D, init: "identity" })
    train.anchors.data[5 * D + 3] = Number.NaN
    const run = () => {
      for (let step = 0; step < 4; step++) {
        const idx = Int32Array.from({ length: 4 }, (_, i) => step * 2 + i)
        const out = embeddingPairLoss(head, { anchors: gatherRows(train.anchors, idx), positives: gatherRows(train.positives, idx) }, { temperature: 0.1 })
        assertFinite(out.loss, step)
      }
    }
    expect(run).toThrow("loss is NaN at step 1") // row 5 first enters the batch at step 1 (rows 2..5)
  })
})
