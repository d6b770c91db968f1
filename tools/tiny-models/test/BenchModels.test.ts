import { readFileSync } from "node:fs"
import { join } from "node:path"
import * as ort from "onnxruntime-node"
import { describe, expect, it } from "vitest"
import { BENCH_MODEL_NAMES, buildBenchModel, gpt2SmallConfig, minilmL6Config } from "../src/index.js"
import { tempDir } from "./helpers.js"

describe("benchmark-size random models", () => {
  it("minilm-l6-random: MiniLM-L6 shapes in config.json and the graph, runs in onnxruntime, rebuilt only when stale", async () => {
    const out = tempDir("bench-models-")
    const first = buildBenchModel("minilm-l6-random", { outDir: out })
    expect(first.skipped).toBe(false)
    const config = JSON.parse(readFileSync(join(first.dir, "config.json"), "utf8"))
    expect([config.num_hidden_layers, config.hidden_size, config.num_attention_heads, config.intermediate_size, config.vocab_size])
      .toEqual([6, 384, 12, 1536, 30522])
    const tokenizer = JSON.parse(readFileSync(join(first.dir, "tokenizer.json"), "utf8"))
    expect(Object.keys(tokenizer.model.vocab).length).toBe(30522)
    const session = await ort.InferenceSession.create(join(first.dir, "onnx", "model.onnx"))
    try {
      const ids = new ort.Tensor("int64", BigInt64Array.from([2n, 500n, 29999n, 3n]), [1, 4])
      const ones = new ort.Tensor("int64", BigInt64Array.from([1n, 1n, 1n, 1n]), [1, 4])
      const zeros = new ort.Tensor("int64", new BigInt64Array(4), [1, 4])
      const out2 = await session.run({ input_ids: ids, attention_mask: ones, token_type_ids: zeros })
      expect(out2.last_hidden_state.dims).toEqual([1, 4, 384])
      expect(Array.from(out2.last_hidden_state.data as Float32Array).every(Number.isFinite)).toBe(true)
    } finally {
      await session.release()
    }
    const bytes = readFileSync(join(first.dir, "onnx", "model.onnx"))
    expect(bytes.length).toBeGreaterThan(4 * 22_000_000) // ~22.7M float32 parameters
    expect(buildBenchModel("minilm-l6-random", { outDir: out }).skipped).toBe(true)
  })

  it("gpt2-small-random has GPT-2 small's shape; unknown names are refused", () => {
    expect(BENCH_MODEL_NAMES).toEqual(["minilm-l6-random", "gpt2-small-random"])
    expect(minilmL6Config.hiddenSize / minilmL6Config.numHeads).toBe(32)
    expect([gpt2SmallConfig.nLayer, gpt2SmallConfig.nEmbd, gpt2SmallConfig.nHead, gpt2SmallConfig.nInner, gpt2SmallConfig.vocabSize]).toEqual([12, 768, 12, 3072, 50257])
    expect(() => buildBenchModel("bert-large" as never)).toThrow(/unknown model "bert-large"/)
  })
})
