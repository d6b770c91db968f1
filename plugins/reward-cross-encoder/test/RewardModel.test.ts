import type { Ports } from "@embedflow/core"

type ScoredQuery = Ports.ScoredQuery
import { EmbeddingCache } from "@embedflow/models"
import { describe, expect, it } from "vitest"
import { Mlp, Rng } from "@embedflow/tensor"
import { trainingTools } from "@embedflow/tensor"
import { pairText, score, train, trainingGroups } from "../src/RewardModel.js"

const query = (id: string, scores: ReadonlyArray<number>): ScoredQuery => ({
  id,
  text: `query ${id}`,
  gold: "y",
  candidates: scores.map((score, j) => ({ id: `${id}-${j}`, text: `demo ${id}-${j}`, output: "y", score }))
})

const seeded = (seed: number) => {
  const rng = new Rng(seed)
  return () => rng.next()
}

describe("trainingGroups", () => {
  it("puts the top candidate first and samples distinct negatives from the bottom part only", () => {
    const q = query("a", [9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
    const rng = new Rng(3)
    const random = () => rng.next()
    for (let trial = 0; trial < 20; trial++) {
      const [g] = trainingGroups([q], { negatives: 3, negativeFrom: 0.5 }, random)
      expect(g!.pairs[0]).toBe(pairText(q.text, q.gold, q.candidates[0]!))
      const negatives = g!.pairs.slice(1)
      expect(new Set(negatives).size).toBe(3)
      const bottom = q.candidates.slice(5).map((c) => pairText(q.text, q.gold, c))
      for (const n of negatives) expect(bottom).toContain(n)
    }
  })

  it("is seeded: the same seed gives the same groups", () => {
    const data = [query("a", [5, 4, 3, 2, 1, 0]), query("b", [3, 2, 1, 0])]
    const opts = { negatives: 2, negativeFrom: 0.3 }
    expect(trainingGroups(data, opts, seeded(7))).toEqual(trainingGroups(data, opts, seeded(7)))
  })
})

describe("train", () => {
  it("learns to rank a held-out query's best candidate first (synthetic pair embeddings)", () => {
    // The LLM's score of a pair is a hidden nonlinear function of its pair embedding.
    const dim = 8
    const rng = new Rng(11)
    const w = Array.from({ length: dim }, () => rng.normal())
    const texts: Array<string> = []
    const rows: Array<number> = []
    const make = (prefix: string, n: number): Array<ScoredQuery> =>
      Array.from({ length: n }, (_, i) => {
        const q = query(`${prefix}${i}`, Array(8).fill(0))
        const candidates = q.candidates.map((c) => {
          const v = Array.from({ length: dim }, () => rng.normal())
          texts.push(pairText(q.text, q.gold, c))
          rows.push(...v)
          return { ...c, score: Math.tanh(v.reduce((s, x, k) => s + x * w[k]!, 0)) + 0.3 * v[0]! * v[1]! }
        })
        return { ...q, candidates: candidates.sort((a, b) => b.score - a.score) }
      })
    const trainSet = make("train", 200)
    const test = make("test", 50)
    const cache = EmbeddingCache.fromRows(texts, Float32Array.from(rows), dim)
    const head = Mlp.make({ inputDim: dim, hiddenDim: 16, outputDim: 1, seed: 1 })
    const history = train(head, cache, trainSet, { negatives: 3, negativeFrom: 0.5, epochs: 15, batchSize: 16 }, trainingTools(head, 2, { lr: 0.01, weightDecay: 0 }))
    expect(history[history.length - 1]!.loss).toBeLessThan(history[0]!.loss)
    let top1 = 0
    for (const q of test) {
      const s = score(head, cache, q.candidates.map((c) => pairText(q.text, q.gold, c)))
      if (s.every((x, j) => j === 0 || x < s[0]!)) top1++
    }
    // 8 candidates: a random scorer ranks the best first 1 time in 8.
    expect(top1 / test.length).toBeGreaterThan(0.6)
  })
})
