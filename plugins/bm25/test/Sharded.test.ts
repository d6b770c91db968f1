import { describe, expect, it } from "vitest"
import { retrieve } from "../src/index.js"
import { runStageOnce as runSharded } from "@embedflow/core"

const words = ["wing", "flow", "shock", "boundary", "layer", "heat", "transfer", "pressure", "mach", "plate", "cone", "laminar"]
const corpus = Array.from({ length: 40 }, (_, i) => ({
  id: `d${i}`,
  text: Array.from({ length: 4 + (i % 9) }, (_, j) => words[(i * 5 + j * 3) % words.length]).join(" ")
}))
// Some queries are corpus texts under the same id, so excludeSameId has something to drop.
const queries = [...corpus.slice(0, 4), ...Array.from({ length: 7 }, (_, i) => ({ id: `q${i}`, text: `${words[i]} ${words[(i + 4) % 12]} ${words[(i + 7) % 12]}` }))]

describe("bm25/retrieve sharded over queries", () => {
  it("shards of 3 queries give the candidates of one shard", async () => {
    const params = { k: 5, includeText: true, excludeSameId: true }
    const whole = await runSharded(retrieve, params, { corpus, queries }, 1000)
    const sharded = await runSharded(retrieve, params, { corpus, queries }, 3)
    const candidates = whole.candidates as ReadonlyArray<{ queryId: string; docId: string }>
    expect(new Set(candidates.map((c) => c.queryId)).size).toBe(11)
    expect(candidates.some((c) => c.queryId === c.docId)).toBe(false)
    expect(sharded.candidates).toEqual(whole.candidates)
  })
})
