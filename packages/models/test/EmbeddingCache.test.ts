import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { EmbeddingCache, encoderConfig, makeEncoder } from "../src/index.js"
import { maxAbsDiff, run, tiny } from "./helpers.js"

describe("EmbeddingCache", () => {
  it("embeds each distinct text once, in batches, with the rows the encoder gives each text", async () => {
    const texts = ["A man is playing a guitar.", "Kids.", "A cat sits on the mat.", "Kids.", "A woman slices an onion.", "A man is playing a guitar."]
    const { cache, calls, progress, direct } = await run(
      Effect.gen(function* () {
        const enc = yield* makeEncoder(encoderConfig({ model: tiny("tiny-bert") }))
        const calls: Array<number> = []
        const progress: Array<[number, number]> = []
        const counting = { dim: enc.dim, embed: (t: ReadonlyArray<string>) => (calls.push(t.length), enc.embed(t)) }
        const cache = yield* EmbeddingCache.build(counting, texts, { batchSize: 3, onProgress: (d, n) => Effect.sync(() => progress.push([d, n])) })
        const direct = yield* enc.embed(texts)
        return { cache, calls, progress, direct }
      })
    )
    expect(cache.count).toBe(4)
    expect(calls).toEqual([3, 1])
    expect(progress).toEqual([[3, 4], [4, 4]])
    expect(maxAbsDiff(EmbeddingCache.gather(cache, texts), direct)).toBeLessThan(1e-5)
  })

  it("names a text that was not embedded, and rows that do not fit the texts", () => {
    const cache = EmbeddingCache.fromRows(["a", "b"], Float32Array.of(1, 2, 3, 4), 2)
    expect(Array.from(EmbeddingCache.gather(cache, ["b", "a", "b"]))).toEqual([3, 4, 1, 2, 3, 4])
    expect(() => EmbeddingCache.gather(cache, ["c"])).toThrow(/not embedded: "c"/)
    expect(() => EmbeddingCache.fromRows(["a"], Float32Array.of(1, 2, 3), 2)).toThrow(/3 floats for 1 texts of dim 2/)
  })
})
