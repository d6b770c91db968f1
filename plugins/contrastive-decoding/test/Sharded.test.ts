import { join } from "node:path"
import { ModelHub } from "@embedflow/models"
import { describe, expect, inject, it } from "vitest"
import { generate } from "../src/index.js"
import { runStageOnce as runSharded } from "@embedflow/core"

const premises = [
  "A man is playing a guitar on stage.",
  "Two dogs run through the snow.",
  "A woman is slicing an onion.",
  "Children are playing soccer in a park.",
  "A person rides a bike down the street.",
  "An old man reads a newspaper on a bench near the river in the morning.",
  "Cats sleep."
].map((text, i) => ({ id: `p${i}`, text }))

describe("contrastive-decoding/generate sharded over premises", () => {
  it("shards (3 asked, rounded up to batchSize 4) give the triples of one shard (sampled with temperature 1, top-p 0.9)", async () => {
    const params = { model: join(inject("tinyModels"), "tiny-gpt2"), maxNewTokens: 8, batchSize: 4, stop: [] }
    const whole = await runSharded(generate, params, { premises }, 1000, ModelHub.layer)
    const sharded = await runSharded(generate, params, { premises }, 3, ModelHub.layer)
    const triples = whole.triples as ReadonlyArray<{ anchor: string; positive: string }>
    expect(triples.length).toBeGreaterThan(3)
    expect(sharded.triples).toEqual(whole.triples)
    const { tokensPerSecond: _a, ...wholeReport } = whole.report as Record<string, number>
    const { tokensPerSecond: _b, ...shardedReport } = sharded.report as Record<string, number>
    expect(shardedReport).toEqual(wholeReport)
    expect(wholeReport.premises).toBe(7)
  })
})
