import { describe, expect, it } from "vitest"
import { Report, summarize } from "../src/index.js"

describe("summarize", () => {
  it("pivots reports into a row per method and a column per data set and metric", () => {
    const table = summarize(
      [
        { task: "sts", title: "a", method: "GloVe", dataset: "STS-B", spearman: 0.5, pearson: 0.4 },
        { task: "retrieval", title: "b", method: "BM25", dataset: "Cranfield", metrics: { ndcg_at_10: 0.34, recall_at_100: 0.7, map: 0.2 } },
        { task: "retrieval", title: "c", method: "GloVe", dataset: "Cranfield", metrics: { ndcg_at_10: 0.2, recall_at_100: 0.5 } }
      ],
      { title: "T", metrics: ["spearman", "ndcg_at_10", "recall_at_100"] }
    )
    expect(table.columns).toEqual(["method", "STS-B spearman", "Cranfield ndcg_at_10", "Cranfield recall_at_100"])
    expect(table.rows).toEqual([
      { method: "GloVe", "STS-B spearman": 0.5, "Cranfield ndcg_at_10": 0.2, "Cranfield recall_at_100": 0.5 },
      { method: "BM25", "STS-B spearman": null, "Cranfield ndcg_at_10": 0.34, "Cranfield recall_at_100": 0.7 }
    ])
    const md = Report.toMarkdown(table, { digits: 3, percent: table.columns.slice(1) })
    expect(md).toContain("| BM25 |  | 34.0 | 70.0 |")
  })
})
