import { Effect, Layer, Stream } from "effect"
import { EmbeddingModel, LanguageModel } from "effect/ai"
import { describe, expect, it } from "vitest"
import { Encoder, layerCausalLM, layerEmbeddingModel, layerEncoder, layerLanguageModel, CausalLM } from "../src/index.js"
import { run, tiny } from "./helpers.js"

describe("effect/ai layers", () => {
  it("EmbeddingModel embeds like the Encoder, single and batched", async () => {
    const texts = ["A man is playing a guitar.", "Kids play outside.", "A cat."]
    const out = await run(
      Effect.gen(function* () {
        const model = yield* EmbeddingModel.EmbeddingModel
        const dims = yield* EmbeddingModel.Dimensions
        const many = yield* model.embedMany(texts)
        const singles = yield* Effect.all(texts.map((t) => model.embed(t)), { concurrency: "unbounded" })
        const direct = yield* (yield* Encoder).embed(texts)
        return { dims, many, singles, direct }
      }).pipe(Effect.provide(Layer.provideMerge(layerEmbeddingModel, layerEncoder({ model: tiny("tiny-bert") }))))
    )
    expect(out.dims).toBe(32)
    expect(out.many.embeddings.map((e) => e.vector)).toEqual(texts.map((_, i) => Array.from(out.direct.subarray(i * 32, i * 32 + 32))))
    for (let i = 0; i < texts.length; i++) {
      const a = out.singles[i].vector
      const b = out.many.embeddings[i].vector
      expect(Math.max(...a.map((v, d) => Math.abs(v - b[d])))).toBeLessThan(1e-5)
    }
  })

  it("LanguageModel.generateText and streamText return the CausalLM's greedy continuation", async () => {
    const out = await run(
      Effect.gen(function* () {
        const response = yield* LanguageModel.generateText({ prompt: "A man is playing" })
        const streamed = yield* Stream.runCollect(LanguageModel.streamText({ prompt: "A man is playing" }))
        const direct = yield* (yield* CausalLM).generate(["A man is playing"], { maxNewTokens: 8, seed: 0 })
        return { text: response.text, finish: response.finishReason, streamed: Array.from(streamed), direct }
      }).pipe(Effect.provide(Layer.provideMerge(layerLanguageModel({ maxNewTokens: 8 }), layerCausalLM(tiny("tiny-gpt2")))))
    )
    expect(out.text).toBe(out.direct[0])
    expect(out.text.length).toBeGreaterThan(0)
    expect(["length", "stop"]).toContain(out.finish)
    const deltas = out.streamed.filter((p) => p.type === "text-delta").map((p) => (p as { delta: string }).delta).join("")
    expect(deltas).toBe(out.direct[0])
  })
})
