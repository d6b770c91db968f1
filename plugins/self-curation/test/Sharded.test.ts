import { join } from "node:path"
import { ModelHub } from "@embedflow/models"
import { describe, expect, inject, it } from "vitest"
import { curate } from "../src/index.js"
import { runStageOnce as runSharded } from "@embedflow/core"

const sentences = ["A man plays a guitar.", "Two dogs run in the snow.", "A woman slices an onion.", "Kids play soccer.", "A person rides a bike.", "Nobody is outside.", "The cat sleeps on a warm mat by the fire."]
// Some triples without a negative, so the NaN path of the report is covered.
const triples = Array.from({ length: 11 }, (_, i) => ({
  anchor: sentences[i % 7]!,
  positive: sentences[(i + 1) % 7]!,
  ...(i % 4 === 3 ? {} : { negative: sentences[(i + 3) % 7]! })
}))

describe("self-curation/curate sharded over triples", () => {
  it("shards of 3 triples give the kept triples and the report of one shard, bit for bit", async () => {
    const model = join(inject("tinyModels"), "tiny-gpt2")
    const whole = await runSharded(curate, { model, hi: 0.99992, lo: 5, requireNegative: false, batchSize: 4 }, { triples }, 1000, ModelHub.layer)
    const sharded = await runSharded(curate, { model, hi: 0.99992, lo: 5, requireNegative: false, batchSize: 4 }, { triples }, 3, ModelHub.layer)
    const report = whole.report as { triples: number; kept: number; entailments: { meanScore: number }; contradictions: { dropped: number; kept: number } }
    expect(report.triples).toBe(11)
    // tiny-gpt2 rates everything near 1: a threshold inside that range keeps some and drops others.
    expect(report.kept).toBeGreaterThan(0)
    expect(report.kept).toBeLessThan(11)
    expect(report.contradictions.kept + report.contradictions.dropped).toBe(9)
    expect(whole.report).not.toHaveProperty("ratings")
    expect(sharded.triples).toEqual(whole.triples)
    expect(sharded.report).toEqual(whole.report)
  })
})
