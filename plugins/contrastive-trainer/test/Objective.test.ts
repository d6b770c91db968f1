import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { type Head, matrix, pairInfoNce, TokenDelta } from "@embedflow/tensor"
import { batchLoss, makeHead, objective, trainHead as train, type TrainingBatch } from "../src/index.js"

/** Seeded uniform stream for fixtures. */
const rng = (seed: number) => {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296
  }
}
const randn = (next: () => number, n: number, F: Float32ArrayConstructor | Float64ArrayConstructor = Float64Array) => {
  const out = new F(n)
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next())
  return out
}

/** Float64 reference: the loss written directly from its definition. */
const referenceLoss = (a: Float64Array, c: Float64Array, rows: number, cols: number, dim: number, mask: Uint8Array | undefined, t: number) => {
  const unit = (m: Float64Array, r: number) => {
    const v = Array.from(m.subarray(r * dim, (r + 1) * dim))
    const n = Math.hypot(...v)
    return v.map((x) => x / n)
  }
  let loss = 0
  for (let i = 0; i < rows; i++) {
    const ai = unit(a, i)
    const entries: Array<{ j: number; s: number }> = []
    for (let j = 0; j < cols; j++) {
      if (j !== i && mask?.[i * cols + j]) continue
      const cj = unit(c, j)
      entries.push({ j, s: ai.reduce((s, x, k) => s + x * cj[k]!, 0) / t })
    }
    const z = entries.reduce((s, e) => s + Math.exp(e.s), 0)
    loss += Math.log(z) - entries.find((e) => e.j === i)!.s
  }
  return loss / rows
}

/** The loss batchLoss runs (tensor's pairInfoNce), over flat rows. */
const maskedInfoNce = (a: ArrayLike<number>, c: ArrayLike<number>, rows: number, cols: number, dim: number, mask: Uint8Array | undefined, t: number) => {
  const r = pairInfoNce(matrix(rows, dim, Float32Array.from(a)), matrix(cols, dim, Float32Array.from(c)), { temperature: t, mask })
  const { dAnchors, dCandidates } = r.backward()
  return { loss: r.loss, dAnchors: dAnchors.data, dCandidates: dCandidates.data }
}

describe("the masked InfoNCE batchLoss trains with (tensor's pairInfoNce)", () => {
  const rows = 3
  const cols = 5
  const dim = 4
  const next = rng(1)
  const a = randn(next, rows * dim) as Float64Array
  const c = randn(next, cols * dim) as Float64Array
  const mask = Uint8Array.from([0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 1, 0, 0])

  it("equals the float64 reference, with and without the mask", () => {
    for (const m of [undefined, mask]) {
      expect(maskedInfoNce(a, c, rows, cols, dim, m, 0.07).loss).toBeCloseTo(referenceLoss(a, c, rows, cols, dim, m, 0.07), 4)
    }
  })

  it("ignores masked candidates entirely and never masks the positive", () => {
    // Candidate 1 is masked for anchor 0 only (mask[1]); moving it changes only the other anchors' terms.
    const moved = c.slice()
    moved.set([9, -3, 2, 5], 1 * dim)
    const anchor0 = a.subarray(0, dim)
    const m0 = mask.subarray(0, cols)
    expect(maskedInfoNce(anchor0, moved, 1, cols, dim, m0, 0.1).loss).toBeCloseTo(maskedInfoNce(anchor0, c, 1, cols, dim, m0, 0.1).loss, 12)
    expect(maskedInfoNce(anchor0, moved, 1, cols, dim, undefined, 0.1).loss).not.toBeCloseTo(maskedInfoNce(anchor0, c, 1, cols, dim, undefined, 0.1).loss, 3)
    // Mask bits on the positives are ignored: same as no mask.
    const diag = Uint8Array.from({ length: rows * cols }, (_, k) => (k % cols === Math.floor(k / cols) ? 1 : 0))
    expect(maskedInfoNce(a, c, rows, cols, dim, diag, 0.1).loss).toBeCloseTo(maskedInfoNce(a, c, rows, cols, dim, undefined, 0.1).loss, 12)
  })

  it("has gradients equal to central finite differences of the float64 reference", () => {
    // Inputs rounded to float32 first, so the reference sees exactly what the float32 kernel sees.
    const a32 = Float64Array.from(Float32Array.from(a))
    const c32 = Float64Array.from(Float32Array.from(c))
    const r = maskedInfoNce(a32, c32, rows, cols, dim, mask, 0.2)
    const h = 1e-6
    const check = (m: Float64Array, grad: ArrayLike<number>) => {
      for (let k = 0; k < m.length; k++) {
        const keep = m[k]!
        m[k] = keep + h
        const up = referenceLoss(a32, c32, rows, cols, dim, mask, 0.2)
        m[k] = keep - h
        const down = referenceLoss(a32, c32, rows, cols, dim, mask, 0.2)
        m[k] = keep
        const numeric = (up - down) / (2 * h)
        expect(Math.abs(grad[k]! - numeric)).toBeLessThan(1e-4 + 1e-3 * Math.abs(numeric))
      }
    }
    check(a32, r.dAnchors)
    check(c32, r.dCandidates)
  })
})

describe("heads", () => {
  const dim = 5
  const next = rng(2)
  const batch: TrainingBatch = {
    rows: 3,
    cols: 6,
    x: randn(next, 9 * dim, Float32Array) as Float32Array,
    mask: Uint8Array.from({ length: 18 }, (_, k) => (k === 4 || k === 13 ? 1 : 0))
  }

  /** Float32 parameters: central differences with a step large enough to rise above rounding. */
  const gradCheck = (head: Head) => {
    head.zeroGrad()
    batchLoss(head, batch, dim, 0.5, true)
    const h = 1e-2
    let checked = 0
    for (const p of head.params()) {
      expect(p.grad.some((g) => g !== 0)).toBe(true)
      for (let k = 0; k < p.value.length; k++) {
        const keep = p.value[k]!
        p.value[k] = keep + h
        const up = batchLoss(head, batch, dim, 0.5, false)
        p.value[k] = keep - h
        const down = batchLoss(head, batch, dim, 0.5, false)
        p.value[k] = keep
        expect(Math.abs(p.grad[k]! - (up - down) / (2 * h))).toBeLessThan(2e-3)
        checked++
      }
    }
    return checked
  }

  it("linear head: gradients flow from the masked loss to every weight (finite differences)", () => {
    const head = makeHead({ kind: "linear" }, dim, 0)
    // Move off the identity so the check covers a general point.
    for (const p of head.params()) for (let k = 0; k < p.value.length; k++) p.value[k] = p.value[k]! + 0.3 * randn(next, 1)[0]!
    expect(gradCheck(head)).toBe(dim * dim + dim)
  })

  it("adapter head: gradients flow through both low-rank factors (finite differences)", () => {
    const head = makeHead({ kind: "adapter", rank: 2 }, dim, 3)
    const up = head.params().find((p) => p.name === "up")!
    up.value.set(randn(next, up.value.length).map((x) => 0.5 * x))
    expect(gradCheck(head)).toBe(2 * dim * 2)
  })

  it("word-vector deltas: gradients flow from the masked loss through the head to every tuned row (finite differences)", () => {
    // Rows of the batch as bags over tokens 0..5 (token 6 occurs but is not tuned).
    const tokensPerRow = [[0, 1], [2], [3, 0], [4, 5, 6], [1], [2, 3], [5], [6, 4], [0]]
    const bags = {
      offsets: Int32Array.from([0, ...tokensPerRow.map((_, i) => tokensPerRow.slice(0, i + 1).flat().length)]),
      tokens: Int32Array.from(tokensPerRow.flat()),
      coefficients: Float32Array.from(tokensPerRow.flat(), (_, k) => 0.4 + 0.1 * (k % 4))
    }
    const withBags: TrainingBatch = { ...batch, bags }
    const head = makeHead({ kind: "linear" }, dim, 0)
    for (const p of head.params()) for (let k = 0; k < p.value.length; k++) p.value[k] = p.value[k]! + 0.3 * randn(next, 1)[0]!
    const delta = TokenDelta.make({ tokens: [0, 1, 2, 3, 4, 5], dim })
    delta.delta.value.set(randn(next, delta.delta.value.length).map((x) => 0.3 * x))
    head.zeroGrad()
    delta.zeroGrad()
    batchLoss(head, withBags, dim, 0.5, true, delta)
    const h = 1e-2
    const p = delta.delta
    expect(p.grad.every((g) => g !== 0)).toBe(true)
    for (let k = 0; k < p.value.length; k++) {
      const keep = p.value[k]!
      p.value[k] = keep + h
      const up = batchLoss(head, withBags, dim, 0.5, false, delta)
      p.value[k] = keep - h
      const down = batchLoss(head, withBags, dim, 0.5, false, delta)
      p.value[k] = keep
      expect(Math.abs(p.grad[k]! - (up - down) / (2 * h))).toBeLessThan(2e-3)
    }
    // Without bags a delta cannot be applied: a clear error, not a silent no-op.
    expect(() => batchLoss(head, batch, dim, 0.5, false, delta)).toThrow(/token bags/)
  })

  it("starts as the identity", () => {
    const x = randn(next, 2 * dim, Float32Array) as Float32Array
    for (const options of [{ kind: "linear" } as const, { kind: "adapter", rank: 3 } as const]) {
      expect(Array.from(makeHead(options, dim, 1).predict({ rows: 2, cols: dim, data: x }).data)).toEqual(Array.from(x))
    }
  })
})

describe("train", () => {
  // A fixture with real structure: positives are noisy copies of a rotated anchor, negatives random;
  // the frozen space separates them poorly, a head can learn the rotation.
  const dim = 8
  const next = rng(5)
  const rotation = randn(next, dim * dim, Float32Array)
  const batches: Array<TrainingBatch> = Array.from({ length: 6 }, () => {
    const rows = 8
    const anchors = randn(next, rows * dim, Float32Array)
    const positives = new Float32Array(rows * dim)
    for (let i = 0; i < rows; i++) {
      for (let o = 0; o < dim; o++) {
        let s = 0
        for (let k = 0; k < dim; k++) s += rotation[o * dim + k]! * anchors[i * dim + k]!
        positives[i * dim + o] = s + 0.3 * randn(next, 1)[0]!
      }
    }
    const negatives = randn(next, rows * dim, Float32Array)
    const x = new Float32Array(3 * rows * dim)
    x.set(anchors, 0)
    x.set(positives, rows * dim)
    x.set(negatives, 2 * rows * dim)
    return { rows, cols: 2 * rows, x, mask: undefined }
  })

  it("lowers the training objective and reports every epoch", async () => {
    const epochs: Array<number> = []
    const result = await Effect.runPromise(
      train(batches, dim, {
        head: { kind: "linear" },
        temperature: 0.1,
        lr: 0.05,
        weightDecay: 0.01,
        warmupRatio: 0.1,
        epochs: 15,
        seed: 1,
        patience: 2,
        onEpoch: (r) => Effect.sync(() => void epochs.push(r.epoch))
      })
    )
    const before = result.history[0]!.trainLoss
    const after = objective(result.head, batches, dim, 0.1)
    expect(epochs).toEqual(Array.from({ length: 16 }, (_, i) => i))
    expect(after).toBeLessThan(0.5 * before)
  })

  it("keeps the best dev epoch and stops after `patience` epochs without improvement", async () => {
    // A dev score that peaks at epoch 2 then falls.
    let calls = 0
    const scores = [0.1, 0.3, 0.5, 0.4, 0.35, 0.2, 0.1]
    const result = await Effect.runPromise(
      train(batches, dim, {
        head: { kind: "adapter", rank: 2 },
        temperature: 0.1,
        lr: 0.05,
        weightDecay: 0,
        warmupRatio: 0,
        epochs: 6,
        seed: 1,
        patience: 2,
        evaluate: () => Effect.sync(() => scores[calls++]!)
      })
    )
    expect(result.bestEpoch).toBe(2)
    expect(result.history.map((h) => h.dev)).toEqual([0.1, 0.3, 0.5, 0.4, 0.35])
    expect(result.stoppedEarly).toBe(true)
  })
})
