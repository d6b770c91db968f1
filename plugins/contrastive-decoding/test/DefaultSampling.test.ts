import { makeCausalLM, type CausalLMShape } from "@embedflow/models"
import { Effect, Exit, Schema, Scope } from "effect"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { generate, generatePairs, Instructions } from "../src/index.js"

let lm: CausalLMShape
let close: () => Promise<void>
beforeAll(async () => {
  const scope = Effect.runSync(Scope.make())
  lm = await Effect.runPromise(Scope.provide(scope)(makeCausalLM(join(inject("tinyModels"), "tiny-gpt2"))))
  close = () => Effect.runPromise(Scope.close(scope, Exit.void))
})
afterAll(() => close?.())

const premises = [
  "A man is playing a guitar on stage.",
  "Two dogs run through the snow.",
  "A woman is slicing an onion.",
  "Children are playing soccer in a park."
].map((text, i) => ({ id: `p${i}`, text }))

// The stage's params as a graph that names only the model gets them.
const defaults = Schema.decodeUnknownSync(generate.params)({ model: "m" })

const run = (params: typeof defaults, seed: number) =>
  Effect.runPromise(
    generatePairs(lm, premises, { ...params, maxNewTokens: 10, instructions: Instructions.defaultInstructions, seed })
  ).then((pairs) => pairs.map((p) => [p.entailment.ids, p.contradiction.ids]))

describe("contrastive-decoding/generate defaults (MultiCSR samples)", () => {
  it("samples with temperature > 0 and nucleus top-p < 1 unless told otherwise", () => {
    expect(defaults.temperature).toBe(1)
    expect(defaults.topP).toBe(0.9)
    expect(generate.version).toBe("3")
  })

  it("the default sampling is reproducible from the seed, changes with it, and is not the greedy output", async () => {
    const a = await run(defaults, 42)
    expect(await run(defaults, 42)).toEqual(a)
    expect(await run(defaults, 43)).not.toEqual(a)
    expect(await run({ ...defaults, temperature: 0 }, 42)).not.toEqual(a)
  })
})
