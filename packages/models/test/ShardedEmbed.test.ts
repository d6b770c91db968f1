import { fileURLToPath } from "node:url"
import type { Vectors } from "@embedflow/core"
import { describe, expect, it } from "vitest"
import { embed, ModelHub } from "../src/index.js"
import { tiny } from "./helpers.js"
import { runStageOnce as runSharded } from "@embedflow/core"

const glove = fileURLToPath(new URL("../../../models/glove-6b-100d", import.meta.url))

// Lengths from 1 to ~60 tokens, so batches of one shard pad differently from the batches of the whole.
const texts = Array.from({ length: 23 }, (_, i) => ({
  id: `t${i}`,
  text: Array.from({ length: 1 + ((i * 7) % 23) * 2 }, (_, j) => ["the", "cat", "sat", "on", "a", "mat", "while", "dogs", "ran", "far"][(i + j) % 10]).join(" ")
}))

const bytes = (v: Vectors) => Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength)

const expectSameVectors = (a: unknown, b: unknown) => {
  const x = a as Vectors
  const y = b as Vectors
  expect(y.count).toBe(x.count)
  expect(y.ids).toEqual(x.ids)
  expect(bytes(y).equals(bytes(x))).toBe(true)
}

describe("models/embed sharded", () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ["tiny BERT, mean pooling", { model: "" }],
    ["tiny BERT, cls pooling, small batches", { model: "", pooling: "cls", batchSize: 4 }],
    ["GloVe SIF", { model: glove, onnxFile: "onnx/model_sif.onnx" }],
    ["GloVe SIF minus the first principal component (fitted on all texts, in the merge)", { model: glove, onnxFile: "onnx/model_sif.onnx", removeComponents: 1 }]
  ]
  for (const [name, params] of cases) {
    it(`${name}: shards of 3 give the vectors of one shard, bit for bit`, async () => {
      const p = { ...params, model: params.model === "" ? tiny("tiny-bert") : params.model }
      const whole = await runSharded(embed, p, { texts }, 1000, ModelHub.layer)
      const sharded = await runSharded(embed, p, { texts }, 3, ModelHub.layer)
      expect((whole.embeddings as Vectors).count).toBe(23)
      expectSameVectors(whole.embeddings, sharded.embeddings)
    })
  }
})
