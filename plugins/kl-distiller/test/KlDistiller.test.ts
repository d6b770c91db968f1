import type { Ports } from "@embedflow/core"

type ScoredQuery = Ports.ScoredQuery
import { EmbeddingCache } from "@embedflow/models"
import { trainingTools } from "@embedflow/tensor"
import { LowRankResidualAdapter, Rng } from "@embedflow/tensor"
import { describe, expect, it } from "vitest"
import { kendallTau } from "../src/KendallTau.js"
import { demonstrationText, distill, encode, rankAgreement, topK } from "../src/KlDistiller.js"

/**
 * A world where the teacher's reward is cosine similarity after a hidden linear map M of the base
 * embeddings: the base encoder (M = I) orders candidates only partly like the teacher, and a head
 * that learns M agrees with it. Seeded; queries and candidates of the held-out set are new texts.
 */
const fixture = (seed: number) => {
  const dim = 12
  const rng = new Rng(seed)
  const M = Float64Array.from({ length: dim * dim }, (_, i) => (i % (dim + 1) === 0 ? 1 : 0) + 0.9 * rng.normal())
  const texts: Array<string> = []
  const rows: Array<number> = []
  const vector = (text: string) => {
    const v = Array.from({ length: dim }, () => rng.normal())
    texts.push(text)
    rows.push(...v)
    return v
  }
  const mapped = (v: ReadonlyArray<number>) => {
    const out = Array.from({ length: dim }, (_, i) => v.reduce((s, x, k) => s + M[i * dim + k]! * x, 0))
    const n = Math.hypot(...out)
    return out.map((x) => x / n)
  }
  const makeQueries = (prefix: string, n: number, m: number): Array<ScoredQuery> =>
    Array.from({ length: n }, (_, i) => {
      const q = mapped(vector(`${prefix}q${i}`))
      const candidates = Array.from({ length: m }, (_, j) => {
        const c = { id: `${prefix}c${i}-${j}`, text: `${prefix}c${i}-${j}`, output: "y" }
        const v = mapped(vector(demonstrationText(c)))
        return { ...c, score: 5 * q.reduce((s, x, k) => s + x * v[k]!, 0) }
      }).sort((a, b) => b.score - a.score)
      return { id: `${prefix}q${i}`, text: `${prefix}q${i}`, gold: "y", candidates }
    })
  const train = makeQueries("train-", 240, 10)
  const heldOut = makeQueries("test-", 60, 10)
  return { dim, train, heldOut, cache: EmbeddingCache.fromRows(texts, Float32Array.from(rows), dim) }
}

const options = { epochs: 30, batchSize: 16, tauTeacher: 1, tauStudent: 0.1, tauContrastive: 0.05, alpha: 0.2 }

describe("distill", () => {
  it("makes the retriever agree with the teacher on held-out queries better than the base encoder", () => {
    const { dim, train, heldOut, cache } = fixture(5)
    const head = LowRankResidualAdapter.make({ dim, rank: dim, seed: 1 })
    const before = rankAgreement(undefined, cache, heldOut)
    const history = distill(head, cache, train, options, trainingTools(head, 2, { lr: 0.01, weightDecay: 0 }))
    const after = rankAgreement(head, cache, heldOut)
    console.log(`held-out Kendall tau vs teacher: base encoder ${before.toFixed(3)}, distilled ${after.toFixed(3)}`)
    expect(history[history.length - 1]!.kl).toBeLessThan(history[0]!.kl)
    expect(before).toBeGreaterThan(0) // the base encoder is informative, not useless ...
    expect(after).toBeGreaterThan(before + 0.15) // ... and distillation closes much of the gap
  })

  it("is reproducible from its seeds", () => {
    const run = () => {
      const { dim, train, cache } = fixture(5)
      const head = LowRankResidualAdapter.make({ dim, rank: 4, seed: 1 })
      return distill(head, cache, train.slice(0, 40), { ...options, epochs: 2 }, trainingTools(head, 2, { lr: 0.01, weightDecay: 0 }))
    }
    expect(run()).toEqual(run())
  })
})

describe("topK", () => {
  it("returns the highest cosines best first, skipping excluded pairs", () => {
    const cache = EmbeddingCache.fromRows(["q", "a", "b", "c"], Float32Array.from([1, 0, 0.9, 0.1, -1, 0, 0.6, 0.8]), 2)
    const q = encode(undefined, cache, ["q"])
    const docs = encode(undefined, cache, ["a", "b", "c"])
    expect(topK(q, docs, 2, 2)[0]!.map((h) => h.index)).toEqual([0, 2])
    expect(topK(q, docs, 2, 2, (_, d) => d === 0)[0]!.map((h) => h.index)).toEqual([2, 1])
  })
})

describe("kendallTau", () => {
  it("is 1 for the same order, -1 reversed, and tau-b with ties", () => {
    expect(kendallTau([1, 2, 3, 4], [10, 20, 30, 40])).toBe(1)
    expect(kendallTau([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1)
    // scipy.stats.kendalltau([1,2,2,3],[1,3,2,4]) = 0.9128709291752769
    expect(kendallTau([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(0.9128709291752769, 12)
  })
})
