import type { CausalLMShape } from "@embedflow/models"
import { PromptTemplate } from "@embedflow/models"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { reduceLogLikelihood, scoreCandidates } from "../src/index.js"

/**
 * A causal LM whose log-likelihoods are fixed by hand: the candidate demonstration's text decides
 * (total, tokens). Only `logLikelihood` is used by the scorer.
 */
const fixedLM = (byDemo: Record<string, { total: number; tokens: number }>): CausalLMShape => ({
  model: "fixed",
  vocabSize: 0,
  eosTokenId: undefined,
  encode: () => [],
  decode: () => "",
  decoder: () => Effect.die("unused"),
  generate: () => Effect.die("unused"),
  logLikelihood: (pairs) =>
    Effect.succeed(
      pairs.map((p) => {
        const key = Object.keys(byDemo).find((k) => p.prompt.includes(k))
        if (key === undefined) throw new Error(`no fixed log-likelihood for prompt ${p.prompt}`)
        return byDemo[key]!
      })
    )
})

const ex = (id: string, text: string, label: string) => ({ id, text, label })
const query = ex("q", "the query", "gold")
// Demo A: two gold tokens at -1 each (sum -2, mean -1). Demo B: one token at -1.5 (sum -1.5, mean -1.5).
const lm = fixedLM({ "demo A": { total: -2, tokens: 2 }, "demo B": { total: -1.5, tokens: 1 } })
const candidates = [ex("a", "demo A", "x"), ex("b", "demo B", "y")]

const run = (reduction?: "mean" | "sum") =>
  Effect.runPromise(scoreCandidates(lm, [{ query, candidates }], { template: PromptTemplate.defaultTemplate, batchSize: 1, reduction }))

describe("score reduction (LLM-R: mean per-token log-probability)", () => {
  it("reduceLogLikelihood: mean divides by the token count, sum keeps the total", () => {
    expect(reduceLogLikelihood({ total: -3, tokens: 4 }, "mean")).toBe(-0.75)
    expect(reduceLogLikelihood({ total: -3, tokens: 4 }, "sum")).toBe(-3)
    expect(reduceLogLikelihood({ total: 0, tokens: 0 }, "mean")).toBe(0)
  })

  it("defaults to mean, dividing each pair's total by its own token count (here A -1 per token ranks above B -1.5, the reverse of the sums)", async () => {
    const [byDefault] = await run()
    expect(byDefault!.candidates.map((c) => [c.id, c.score])).toEqual([
      ["a", -1],
      ["b", -1.5]
    ])
    const [summed] = await run("sum")
    expect(summed!.candidates.map((c) => [c.id, c.score])).toEqual([
      ["b", -1.5],
      ["a", -2]
    ])
  })
})
