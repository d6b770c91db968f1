import { join } from "node:path"
import { ModelHub } from "@embedflow/models"
import { describe, expect, inject, it } from "vitest"
import { score } from "../src/index.js"
import { runStageOnce as runSharded } from "@embedflow/core"

const ex = (i: number) => ({ id: `e${i}`, text: `example ${i} ${"is about a dog ".repeat(i % 4)}`.trim(), label: i % 2 === 0 ? "human" : "animal" })
const pool = Array.from({ length: 12 }, (_, i) => ex(i))
const queries = pool.slice(0, 7)
// Every query's retrieved candidates: the whole pool, by a rank that differs per query.
const candidates = queries.flatMap((q, qi) => pool.map((d, di) => ({ queryId: q.id, docId: d.id, score: 0, rank: 1 + ((di * 5 + qi) % pool.length) })))

describe("llm-scorer/score sharded over queries", () => {
  it("shards of 3 queries give the scores of one shard, bit for bit (batches of pairs pad differently)", async () => {
    const params = { model: join(inject("tinyModels"), "tiny-gpt2"), candidatesPerQuery: 4, batchSize: 5 }
    const inputs = { queries, pool, candidates }
    const whole = await runSharded(score, params, inputs, 1000, ModelHub.layer)
    const sharded = await runSharded(score, params, inputs, 3, ModelHub.layer)
    const scored = whole.scored as ReadonlyArray<{ id: string; candidates: ReadonlyArray<{ score: number }> }>
    expect(scored.map((q) => q.candidates.length)).toEqual([4, 4, 4, 4, 4, 4, 4])
    expect(new Set(scored.flatMap((q) => q.candidates.map((c) => c.score))).size).toBeGreaterThan(7)
    expect(sharded.scored).toEqual(whole.scored)
  })
})
