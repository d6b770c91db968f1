import { describe, expect, it } from "vitest"
import {
  embeddingPairLoss, type Head, infoNce, klDivergence, Linear, listwiseCrossEntropy, LowRankResidualAdapter, matrix, Mlp, pairInfoNce, Rng
} from "../src/index.js"
import {
  cosine64, expectGradClose, infoNce64, kl64, linear64, listwise64, lowRank64, type M64, m64, mlp64, numericGrad, rowsOf,
  stack, testData
} from "./reference.js"

const scoresOf = (rows: number, cols: number, seed: number) => matrix(rows, cols, testData(rows * cols, seed))

describe("InfoNCE", () => {
  it("loss and gradient match float64 (diagonal positives, extra columns)", () => {
    const s = scoresOf(4, 7, 1)
    const r = infoNce(s, { temperature: 0.1 })
    const s64 = m64(4, 7, s.data)
    expect(r.loss).toBeCloseTo(infoNce64(s64, 0.1), 5)
    expectGradClose(r.grad.data, numericGrad(() => infoNce64(s64, 0.1), s64.data), "infoNce")
  })

  it("masked: loss and gradient match float64; masked entries get zero gradient; positive never masked", () => {
    const s = scoresOf(4, 6, 2)
    const mask = new Uint8Array(24)
    mask[0 * 6 + 2] = 1
    mask[1 * 6 + 0] = 1
    mask[2 * 6 + 5] = 1
    mask[3 * 6 + 3] = 1 // the positive of row 3: ignored
    const positives = [0, 1, 2, 3]
    const r = infoNce(s, { temperature: 0.2, mask, positives })
    const s64 = m64(4, 6, s.data)
    expect(r.loss).toBeCloseTo(infoNce64(s64, 0.2, positives, mask), 5)
    expectGradClose(r.grad.data, numericGrad(() => infoNce64(s64, 0.2, positives, mask), s64.data), "masked infoNce")
    expect([r.grad.data[2], r.grad.data[6], r.grad.data[17]]).toEqual([0, 0, 0])
    expect(r.grad.data[3 * 6 + 3]).toBeLessThan(0) // the positive is still pulled up
  })

  it("masking one negative changes the loss by exactly (1/n)·(log Z_i − log(Z_i − e^{s_ik/τ}))", () => {
    const s = scoresOf(3, 5, 3)
    const tau = 0.5
    const base = infoNce(s, { temperature: tau }).loss
    const mask = new Uint8Array(15)
    mask[1 * 5 + 4] = 1
    const masked = infoNce(s, { temperature: tau, mask }).loss
    let z = 0
    for (let j = 0; j < 5; j++) z += Math.exp(s.data[5 + j] / tau)
    const expected = (Math.log(z - Math.exp(s.data[5 + 4] / tau)) - Math.log(z)) / 3
    expect(masked - base).toBeCloseTo(expected, 6)
    expect(masked).toBeLessThan(base)
  })

  it("masking a column in every row equals deleting that column", () => {
    const s = scoresOf(3, 6, 4)
    const mask = new Uint8Array(18)
    for (let i = 0; i < 3; i++) mask[i * 6 + 4] = 1
    const without = matrix(3, 5, Float32Array.from(Array.from({ length: 3 }, (_, i) => [0, 1, 2, 3, 5].map((j) => s.data[i * 6 + j])).flat()))
    expect(infoNce(s, { temperature: 0.3, mask }).loss).toBeCloseTo(infoNce(without, { temperature: 0.3 }).loss, 6)
  })

  it("accuracy counts rows whose positive scores highest among unmasked candidates", () => {
    const s = matrix(2, 3, Float32Array.from([0.9, 0.1, 0.2, 0.8, 0.5, 0.1]))
    expect(infoNce(s, { temperature: 1 }).accuracy).toBe(0.5)
    const mask = Uint8Array.from([0, 0, 0, 1, 0, 0])
    expect(infoNce(s, { temperature: 1, mask }).accuracy).toBe(1)
  })

  it("validates inputs with clear errors", () => {
    expect(() => infoNce(scoresOf(3, 2, 5), { temperature: 1 })).toThrow(/diagonal positives need cols ≥ rows/)
    expect(() => infoNce(scoresOf(2, 3, 5), { temperature: 1, positives: [0, 3] })).toThrow(/positive of row 1 is 3/)
    expect(() => infoNce(scoresOf(2, 3, 5), { temperature: 1, mask: new Uint8Array(5) })).toThrow(/mask has 5 entries, expected rows x cols = 6/)
  })
})

describe("KL, listwise", () => {
  it("KL(teacher ‖ student) with both temperatures and a padding mask", () => {
    const student = scoresOf(3, 5, 10), teacher = matrix(3, 5, testData(15, 11, 4))
    const mask = new Uint8Array(15)
    mask[4] = 1
    mask[2 * 5 + 3] = 1
    const s64 = m64(3, 5, student.data), t64 = m64(3, 5, teacher.data)
    for (const m of [undefined, mask]) {
      const r = klDivergence(student, teacher, { studentTemperature: 0.5, teacherTemperature: 2, mask: m })
      const f = () => kl64(s64, t64, 0.5, 2, m)
      expect(r.loss).toBeCloseTo(f(), 6)
      expect(r.loss).toBeGreaterThan(0)
      expectGradClose(r.grad.data, numericGrad(f, s64.data), `kl${m ? " masked" : ""}`)
    }
    expect(klDivergence(teacher, teacher, { studentTemperature: 2, teacherTemperature: 2 }).loss).toBeCloseTo(0, 7)
  })

  it("listwise cross-entropy with graded targets and a mask", () => {
    const s = scoresOf(3, 4, 12)
    const targets = matrix(3, 4, Float32Array.from([3, 1, 0, 0, 0, 0, 2, 0, 1, 1, 1, 0]))
    const mask = Uint8Array.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1])
    const r = listwiseCrossEntropy(s, targets, { temperature: 0.5, mask })
    const s64 = m64(3, 4, s.data), t64 = m64(3, 4, targets.data)
    const f = () => listwise64(s64, t64, 0.5, mask)
    expect(r.loss).toBeCloseTo(f(), 6)
    expectGradClose(r.grad.data, numericGrad(f, s64.data), "listwise")
    expect(() => listwiseCrossEntropy(s, matrix(3, 4), {})).toThrow(/row 0 has no positive target/)
    expect(() => listwiseCrossEntropy(s, targets, { mask: Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) }))
      .toThrow(/target \[0, 0\] is 3 but the entry is masked/)
  })
})

describe("embedding pair loss: head -> L2 norm -> cosine [anchors x (positives ++ negatives)] -> masked InfoNCE", () => {
  const [n, h, d] = [4, 3, 6]
  const anchors = scoresOf(n, d, 20), positives = scoresOf(n, d, 21), negatives = scoresOf(h, d, 22)
  const mask = new Uint8Array(n * (n + h))
  mask[0 * (n + h) + 2] = 1 // in-batch false negative
  mask[3 * (n + h) + 5] = 1 // a hard negative excluded for anchor 3
  const x64 = stack(m64(n, d, anchors.data), m64(n, d, positives.data), m64(h, d, negatives.data))

  const check = (head: Head, ref: (x: M64, p: Record<string, M64>) => M64) => {
    const r = new Rng(5)
    for (const p of head.params()) r.fillNormal(p.value, 0, 0.4)
    head.zeroGrad()
    const step = embeddingPairLoss(head, { anchors, positives, negatives, mask }, { temperature: 0.2 })
    step.backward()
    expect(() => step.backward()).toThrow(/already called/)
    const p64 = Object.fromEntries(head.params().map((p) => [p.name, m64(p.shape[0], p.shape[1] ?? 1, p.value)]))
    const f = () => {
      const y = ref(x64, p64)
      const s = cosine64(rowsOf(y, 0, n), rowsOf(y, n, 2 * n + h))
      return infoNce64(s, 0.2, undefined, mask)
    }
    expect(step.loss).toBeCloseTo(f(), 5)
    for (const p of head.params()) expectGradClose(p.grad, numericGrad(f, p64[p.name].data), `pair loss ${head.kind} d${p.name}`)
  }

  it("Linear head", () => check(Linear.make({ inputDim: d, outputDim: 5 }), (x, p) => linear64(x, p.weight, p.bias.data)))
  it("LowRankResidualAdapter head", () =>
    check(LowRankResidualAdapter.make({ dim: d, rank: 2, scale: 0.5 }), (x, p) => lowRank64(x, p.down, p.up, 0.5)))
  it("Mlp head", () =>
    check(Mlp.make({ inputDim: d, hiddenDim: 7, outputDim: 4 }), (x, p) => mlp64(x, p.w1, p.b1.data, p.w2, p.b2.data, "gelu")))

  it("pairInfoNce (what contrastive-trainer runs) gives embeddingPairLoss's loss and gradients on the head's output", () => {
    const head = Linear.make({ inputDim: d, outputDim: 5 })
    new Rng(9).fillNormal(head.params()[0]!.value, 0, 0.4)
    const x = matrix(2 * n + h, d)
    x.data.set(anchors.data, 0)
    x.data.set(positives.data, n * d)
    x.data.set(negatives.data, 2 * n * d)
    const out = head.predict(x)
    const a = matrix(n, 5, out.data.slice(0, n * 5))
    const c = matrix(n + h, 5, out.data.slice(n * 5))
    const r = pairInfoNce(a, c, { temperature: 0.2, mask })
    const s64 = cosine64(m64(n, 5, a.data), m64(n + h, 5, c.data))
    expect(r.loss).toBeCloseTo(infoNce64(s64, 0.2, undefined, mask), 5)
    expect(r.loss).toBeCloseTo(embeddingPairLoss(head, { anchors, positives, negatives, mask }, { temperature: 0.2 }).loss, 6)
    const a64 = m64(n, 5, a.data), c64 = m64(n + h, 5, c.data)
    const { dAnchors, dCandidates } = r.backward()
    expectGradClose(dAnchors.data, numericGrad(() => infoNce64(cosine64(a64, c64), 0.2, undefined, mask), a64.data), "pairInfoNce dAnchors")
    expectGradClose(dCandidates.data, numericGrad(() => infoNce64(cosine64(a64, c64), 0.2, undefined, mask), c64.data), "pairInfoNce dCandidates")
    expect(() => pairInfoNce(c, a, { temperature: 0.2 })).toThrow(/4 candidates for 7 anchors/)
  })

  it("rejects unpaired batches and wrongly sized masks", () => {
    const head = Linear.make({ inputDim: d, outputDim: 3 })
    expect(() => embeddingPairLoss(head, { anchors, positives: negatives }, { temperature: 1 })).toThrow(/3 positives for 4 anchors/)
    expect(() => embeddingPairLoss(head, { anchors, positives, mask: new Uint8Array(3) }, { temperature: 1 })).toThrow(/expected anchors x \(positives \+ negatives\) = 4 x 4/)
  })
})
