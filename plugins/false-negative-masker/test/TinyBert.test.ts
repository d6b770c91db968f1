import { encoderConfig, makeEncoder } from "@embedflow/models"
import { Effect } from "effect"
import { join } from "node:path"
import { describe, expect, inject, it } from "vitest"
import { Ports } from "@embedflow/core"
import { maskBatches, maskFalseNegatives } from "../src/index.js"

const { unpackMask } = Ports

/** Float64 cosine of every row pair, written independently of tensor's float32 cosineMatrix. */
const cosine64 = (a: Float32Array, aRows: number, b: Float32Array, bRows: number, dim: number): Float64Array => {
  const out = new Float64Array(aRows * bRows)
  for (let i = 0; i < aRows; i++) {
    for (let j = 0; j < bRows; j++) {
      let dot = 0, na = 0, nb = 0
      for (let k = 0; k < dim; k++) {
        dot += a[i * dim + k]! * b[j * dim + k]!
        na += a[i * dim + k]! ** 2
        nb += b[j * dim + k]! ** 2
      }
      out[i * bRows + j] = dot / Math.sqrt(na * nb)
    }
  }
  return out
}

const triples = [
  { anchor: "A man is playing a guitar.", positive: "A man plays an instrument.", negative: "Nobody is playing music." },
  { anchor: "Two dogs run through the snow.", positive: "Animals are outside.", negative: "The dogs are sleeping indoors." },
  { anchor: "A woman is slicing an onion.", positive: "A woman is cutting a vegetable.", negative: "A woman is singing." },
  // Same positive as the first triple: a false negative for anchor 0 by construction.
  { anchor: "A guitarist performs on stage.", positive: "A man plays an instrument.", negative: "The stage is empty." },
  { anchor: "Children are playing soccer.", positive: "Kids play a game.", negative: "The kids are asleep." }
]

describe("maskBatches with tiny-bert as the teacher", () => {
  it("masks exactly what the rule gives on the encoder's cosines, and always the duplicate positive", async () => {
    const result = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const encoder = yield* makeEncoder(encoderConfig({ model: join(inject("tinyModels"), "tiny-bert"), pooling: "mean" }))
          const options = { mode: "gist", threshold: 0, margin: 0.02 } as const
          const { batches, report } = yield* maskBatches(triples, { ...options, batchSize: 5, seed: 3, dropLast: false, embed: encoder.embed })
          // Independent path: every text embedded on its own.
          const one = (t: string) => encoder.embed([t])
          const b = batches[0]!
          const anchors = new Float32Array((yield* Effect.forEach(b.anchors, one)).flatMap((v) => Array.from(v)))
          const cands = [...b.positives, ...b.negatives]
          const candidates = new Float32Array((yield* Effect.forEach(cands, one)).flatMap((v) => Array.from(v)))
          const sim = cosine64(anchors, b.anchors.length, candidates, cands.length, encoder.dim)
          return { b, report, expected: maskFalseNegatives(sim, b.anchors.length, cands.length, options), cands }
        })
      )
    )
    const { b, report, expected, cands } = result
    expect(Array.from(unpackMask(b))).toEqual(Array.from(expected))
    const i0 = b.anchors.indexOf(triples[0]!.anchor)
    const i3 = b.anchors.indexOf(triples[3]!.anchor)
    const bits = unpackMask(b)
    // Each of the two anchors sees the other's copy of their shared positive as a false negative.
    expect(bits[i0 * cands.length + i3]).toBe(1)
    expect(bits[i3 * cands.length + i0]).toBe(1)
    expect(report.masked).toBe(Array.from(expected).reduce((s, x) => s + x, 0))
    expect(report.maskRate).toBeGreaterThan(0)
  })
})
