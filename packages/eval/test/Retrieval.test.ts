import { describe, expect, it } from "vitest"
import { Retrieval } from "../src/index.js"

const rels = { d1: 3, d2: 2, d3: 0, d5: 1 }
const run = [["d3", 0.9], ["d1", 0.8], ["d4", 0.7], ["d2", 0.6], ["d5", 0.5]] as const

describe("retrieval metrics (hand-computed)", () => {
  const ranked = Retrieval.ranking(run)

  it("nDCG@k: linear gain, log2 discount, ideal from all judgments", () => {
    expect(ranked).toEqual(["d3", "d1", "d4", "d2", "d5"])
    const idcg3 = 3 + 2 / Math.log2(3) + 1 / 2
    expect(Retrieval.ndcgAtK(ranked, rels, 3)).toBeCloseTo(3 / Math.log2(3) / idcg3, 12)
    const dcg5 = 3 / Math.log2(3) + 2 / Math.log2(5) + 1 / Math.log2(6)
    expect(Retrieval.ndcgAtK(ranked, rels, 5)).toBeCloseTo(dcg5 / idcg3, 12)
    expect(Retrieval.ndcgAtK(["d1", "d2", "d5"], rels, 10)).toBe(1)
    // Judged documents missing from the run still count in the ideal.
    expect(Retrieval.ndcgAtK(["d1"], rels, 10)).toBeCloseTo(3 / idcg3, 12)
  })

  it("recall, precision, MRR, AP", () => {
    expect(Retrieval.recallAtK(ranked, rels, 3)).toBeCloseTo(1 / 3, 12)
    expect(Retrieval.recallAtK(ranked, rels, 5)).toBe(1)
    expect(Retrieval.precisionAtK(ranked, rels, 3)).toBeCloseTo(1 / 3, 12)
    expect(Retrieval.precisionAtK(ranked, rels, 10)).toBeCloseTo(3 / 10, 12)
    expect(Retrieval.mrrAtK(ranked, rels, 1)).toBe(0)
    expect(Retrieval.mrrAtK(ranked, rels, 3)).toBe(1 / 2)
    expect(Retrieval.averagePrecision(ranked, rels)).toBeCloseTo((1 / 2 + 2 / 4 + 3 / 5) / 3, 12)
    // MAP@3 divides by all 3 relevant documents, not by min(k, R).
    expect(Retrieval.averagePrecision(ranked, rels, 3)).toBeCloseTo(1 / 2 / 3, 12)
  })

  it("ties broken by document id descending, as trec_eval", () => {
    expect(Retrieval.ranking([["a", 1], ["c", 2], ["b", 1], ["a", 0.5]])).toEqual(["c", "b", "a"])
    expect(Retrieval.mrrAtK(Retrieval.ranking([["a", 1], ["b", 1]]), { b: 1 }, 10)).toBe(1)
  })

  it("evaluateRun averages over judged queries and scores missing ones as 0", () => {
    const qrels = { q1: rels, q2: { x: 1 }, q3: { y: 0 } }
    const r = Retrieval.evaluateRun({ q1: run, q9: [["z", 1]] }, qrels, { ks: [3, 10] })
    expect(r.queries).toBe(2)
    expect(r.missingFromRun).toEqual(["q2"])
    expect(r.metrics.mrr_at_3).toBeCloseTo(0.5 / 2, 12)
    expect(r.metrics.recall_at_10).toBeCloseTo(0.5, 12)
    expect(r.metrics.map).toBeCloseTo((1 / 2 + 2 / 4 + 3 / 5) / 3 / 2, 12)
    expect(r.perQuery.q2!.ndcg_at_10).toBe(0)
    expect(Object.keys(r.metrics).sort()).toEqual(
      ["map", ...[3, 10].flatMap((k) => ["ndcg", "map", "recall", "precision", "mrr"].map((m) => `${m}_at_${k}`))].sort()
    )
    expect(() => Retrieval.evaluateRun({}, qrels, { ks: [0] })).toThrow(/positive integer/)
  })
})
