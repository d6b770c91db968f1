import { type CausalLMShape, makeCausalLM } from "@embedflow/models"
import { Effect, Exit, Scope } from "effect"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { applyThresholds, digitTokenIds, ratePairs, RatingPrompt } from "../src/index.js"

let lm: CausalLMShape
let close: () => Promise<void>
beforeAll(async () => {
  const scope = Effect.runSync(Scope.make())
  lm = await Effect.runPromise(Scope.provide(scope)(makeCausalLM(join(inject("tinyModels"), "tiny-gpt2"))))
  close = () => Effect.runPromise(Scope.close(scope, Exit.void))
})
afterAll(() => close?.())

const pairs: Array<readonly [string, string]> = [
  ["A man is playing a guitar.", "A man plays an instrument."],
  ["A man is playing a guitar.", "Nobody is playing music."],
  ["Two dogs run through the snow.", "Animals are outside."],
  ["A woman is slicing an onion.", "A woman is cutting a vegetable."],
  ["Children are playing soccer.", "The kids are asleep."]
]
const options = { template: RatingPrompt.defaultTemplate, digitPrefix: " ", batchSize: 2 }

describe("ratePairs on tiny-gpt2", () => {
  it("is the expected digit under the next-token distribution, as log-likelihoods of each digit give it", async () => {
    const scores = await Effect.runPromise(ratePairs(lm, pairs, options))
    for (const [i, [a, b]] of pairs.entries()) {
      const prompt = RatingPrompt.render(options.template, a, b)
      const ll = await Effect.runPromise(lm.logLikelihood([0, 1, 2, 3, 4, 5].map((d) => ({ prompt, continuation: ` ${d}` }))))
      expect(ll.every((l) => l.tokens === 1)).toBe(true)
      const p = ll.map((l) => Math.exp(l.total))
      const z = p.reduce((s, x) => s + x, 0)
      const reference = p.reduce((s, x, d) => s + (d * x) / z, 0)
      expect(Math.abs(scores[i]! - reference)).toBeLessThan(1e-4)
    }
    // The ratings depend on the pair (a constant would make curation meaningless).
    expect(Math.max(...scores) - Math.min(...scores)).toBeGreaterThan(1e-5)
  })

  it("does not depend on the batch size", async () => {
    const one = await Effect.runPromise(ratePairs(lm, pairs, { ...options, batchSize: 1 }))
    const all = await Effect.runPromise(ratePairs(lm, pairs, { ...options, batchSize: 8 }))
    for (let i = 0; i < pairs.length; i++) expect(Math.abs(one[i]! - all[i]!)).toBeLessThan(1e-4)
  })

  it("finds single-token digits with the space prefix and rejects prefixes that split them", () => {
    expect(digitTokenIds(lm.encode, " ")).toHaveLength(6)
    expect(() => digitTokenIds(lm.encode, " rating")).toThrow(/tokens.*digitPrefix/)
  })

  it("curates generated triples by their ratings, end to end", async () => {
    const triples = [0, 2, 3].map((i) => ({ anchor: pairs[i]![0], positive: pairs[i]![1], negative: pairs[i === 0 ? 1 : 4]![1] }))
    const ent = await Effect.runPromise(ratePairs(lm, triples.map((t) => [t.anchor, t.positive] as const), options))
    const con = await Effect.runPromise(ratePairs(lm, triples.map((t) => [t.anchor, t.negative] as const), options))
    // Thresholds between the observed ratings: exactly the triples above hi survive.
    const hi = [...ent].sort((x, y) => x - y)[1]!
    const { triples: kept, report } = applyThresholds(triples, ent, con, { hi, lo: 5, requireNegative: false })
    expect(kept.map((t) => t.anchor)).toEqual(triples.filter((_, i) => ent[i]! >= hi).map((t) => t.anchor))
    expect(report.kept).toBe(2)
    expect(kept.every((t) => typeof (t.meta as { curation: { entailmentScore: number } }).curation.entailmentScore === "number")).toBe(true)
  })
})
