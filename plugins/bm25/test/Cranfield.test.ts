import { Effect } from "effect"
import { IrCollection } from "@embedflow/data"
import { Retrieval } from "@embedflow/eval"
import { describe, expect, it } from "vitest"
import { Bm25 } from "../src/index.js"

// Cranfield is small (1400 abstracts): indexing and 225 queries take well under a second.
describe("BM25 on Cranfield", () => {
  // Measured: nDCG@10 0.342, MAP 0.281, Recall@100 0.725 (stop words + S-stemmer; source documents
  // not counted, see IrCollection.CranfieldSource). Published BM25 figures: ~0.3-0.45.
  it("nDCG@10 lands in the published BM25 range", async () => {
    const c = await Effect.runPromise(IrCollection.load("cranfield"))
    const index = Bm25.build(c.documents.map((d) => ({ id: d.id, text: IrCollection.documentText(d) })), { tokenizer: { stopWords: "english", stem: true } })
    const run = Object.fromEntries(c.queries.map((q) => [q.id, index.search(q.text, 100).map((h) => [h.id, h.score] as const)]))
    const graded = Retrieval.evaluateRun(run, IrCollection.qrelsByQuery(c.qrels), { ks: [10, 100] })
    expect(graded.queries).toBe(225)
    expect(graded.metrics.ndcg_at_10).toBeGreaterThan(0.3)
    expect(graded.metrics.ndcg_at_10).toBeLessThan(0.45)
    expect(graded.metrics.recall_at_100).toBeGreaterThan(0.6)
  })
})
