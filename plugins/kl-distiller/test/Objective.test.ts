import { describe, expect, it } from "vitest"
import { objective, type ObjectiveBatch } from "../src/Objective.js"
import { objective64 } from "./reference.js"

/** A seeded float64 stream for fixtures (mulberry32). */
const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5
}

const makeBatch = (seed: number): ObjectiveBatch => {
  const r = rng(seed)
  const dim = 5
  const offsets = [0, 4, 7, 12]
  const nc = offsets[3]!
  return {
    dim,
    queries: Float64Array.from({ length: 3 * dim }, r),
    candidates: Float64Array.from({ length: nc * dim }, r),
    offsets,
    rewards: Float64Array.from({ length: nc }, () => 4 * r()),
    positives: [1, 4, 9],
    // Queries 0 and 2 share a positive: each masks the other's out of its negatives.
    positiveIds: ["a", "b", "a"],
    // candidate 9 (query 2's positive) is also "a": query 0's duplicate; candidate 2 repeats "b"
    candidateIds: ["x0", "a", "b", "x3", "b", "x5", "x6", "x7", "x8", "a", "x10", "x11"]
  }
}

const options = { tauTeacher: 0.7, tauStudent: 0.1, tauContrastive: 0.05, alpha: 0.4 }

describe("objective (KL teacher||student + alpha InfoNCE)", () => {
  it("InfoNCE negatives: every candidate in the batch (LLM-R) by default, other queries' positives on request; both match the float64 reference", () => {
    const raw = makeBatch(21)
    const batch = { ...raw, queries: Float64Array.from(Float32Array.from(raw.queries)), candidates: Float64Array.from(Float32Array.from(raw.candidates)) }
    const all = objective(batch, options)
    const positives = objective(batch, { ...options, negatives: "positives" })
    expect(all.infoNce).toBeCloseTo(objective64(batch, options).infoNce, 4)
    expect(positives.infoNce).toBeCloseTo(objective64(batch, { ...options, negatives: "positives" }).infoNce, 4)
    // more negatives, a larger softmax denominator
    expect(all.infoNce).toBeGreaterThan(positives.infoNce)
    expect(() => objective({ ...batch, candidateIds: undefined }, options)).toThrow(/candidateIds/)
  })

  it("equals the float64 reference, and its gradients match the reference's central finite differences", () => {
    // Inputs rounded to float32 first, so the reference sees exactly what the float32 kernels see.
    const raw = makeBatch(11)
    const batch = { ...raw, queries: Float64Array.from(Float32Array.from(raw.queries)), candidates: Float64Array.from(Float32Array.from(raw.candidates)) }
    const result = objective(batch, options)
    const reference = objective64(batch, options)
    expect(result.kl).toBeCloseTo(reference.kl, 5)
    expect(result.infoNce).toBeCloseTo(reference.infoNce, 4)
    expect(result.infoNce).toBeGreaterThan(0)
    const { gradQueries, gradCandidates } = result
    const h = 1e-6
    for (const [field, grad] of [["queries", gradQueries], ["candidates", gradCandidates]] as const) {
      const x = batch[field]
      for (let k = 0; k < x.length; k++) {
        const keep = x[k]!
        x[k] = keep + h
        const up = objective64(batch, options).loss
        x[k] = keep - h
        const down = objective64(batch, options).loss
        x[k] = keep
        const numeric = (up - down) / (2 * h)
        expect(Math.abs(numeric - grad[k]!)).toBeLessThan(2e-4 + 1e-3 * Math.abs(numeric))
      }
    }
  })

  it("the float64 reference itself matches its central finite differences", () => {
    const batch = makeBatch(12)
    const { gradQueries } = objective64(batch, options)
    const x = batch.queries as Float64Array
    const h = 1e-6
    for (let k = 0; k < x.length; k++) {
      const keep = x[k]!
      x[k] = keep + h
      const up = objective64(batch, options).loss
      x[k] = keep - h
      const down = objective64(batch, options).loss
      x[k] = keep
      const numeric = (up - down) / (2 * h)
      expect(Math.abs(numeric - gradQueries[k]!)).toBeLessThan(1e-7 + 1e-6 * Math.abs(numeric))
    }
  })

  it("is the KL divergence alone when alpha = 0, zero when the student reproduces the teacher", () => {
    // One query, candidates at known cosines: teacher logits r / tauT equal student logits cos / tauS.
    const dim = 2
    const angles = [0, 0.5, 1.2]
    const candidates = Float64Array.from(angles.flatMap((a) => [Math.cos(a), Math.sin(a)]))
    const rewards = angles.map((a) => (Math.cos(a) / options.tauStudent) * options.tauTeacher)
    const batch = { dim, queries: [3, 0], candidates, offsets: [0, 3], rewards, positives: [0], positiveIds: ["x"] }
    const result = objective(batch, { ...options, alpha: 0 })
    expect(result.kl).toBeCloseTo(0, 6)
    expect(result.loss).toBe(result.kl)
    expect(Math.max(...Array.from(result.gradQueries, Math.abs), ...Array.from(result.gradCandidates, Math.abs))).toBeLessThan(1e-5)

    // A uniform student against a peaked teacher: KL = log m - H(p_t) > 0, computed by hand.
    const flat = { ...batch, candidates: [1, 0, 1, 0, 1, 0], rewards: [2, 0, 0] }
    const t = [2 / options.tauTeacher, 0, 0].map(Math.exp)
    const z = t.reduce((a, b) => a + b, 0)
    const pt = t.map((v) => v / z)
    const expected = pt.reduce((s, p) => s + p * Math.log(p * 3), 0)
    expect(objective(flat, { ...options, alpha: 0 }).kl).toBeCloseTo(expected, 5)
  })

  it("InfoNCE with one query and negatives: positives is zero (its positive is its only logit)", () => {
    const batch = { ...makeBatch(3), offsets: [0, 4], queries: (makeBatch(3).queries as Float64Array).slice(0, 5), candidates: (makeBatch(3).candidates as Float64Array).slice(0, 20), rewards: [1, 2, 3, 4], positives: [3], positiveIds: ["p"] }
    expect(objective(batch, { ...options, negatives: "positives" }).infoNce).toBeCloseTo(0, 12)
    expect(objective64(batch, { ...options, negatives: "positives" }).infoNce).toBeCloseTo(0, 12)
  })
})
