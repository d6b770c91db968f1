/**
 * ONNX weights in and out: the TypeScript forward of a loaded model equals onnxruntime's forward of
 * the same file, exported weights round-trip through onnxruntime and transformers.js, and graphs
 * the engine does not know are refused before any training.
 */
import { GraphBuilder } from "@embedflow/onnx"
import { AutoModel, AutoModelForCausalLM, env, Tensor } from "@huggingface/transformers"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as ort from "onnxruntime-node"
import { afterAll, describe, expect, inject, it } from "vitest"
import {
  addLora, type BertEncoder, exportOnnxModel, type Gpt2Decoder, loadOnnxModel, loadOnnxModelBytes, padBatch, Rng,
  saveOnnxModelFolder, type TokenBatch
} from "../src/index.js"

const tiny = (name: string) => join(inject("tinyModels"), name)
const scratch = mkdtempSync(join(tmpdir(), "embedflow-onnx-weights-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const i64 = (a: ArrayLike<number>, dims: Array<number>) => new ort.Tensor("int64", BigInt64Array.from(Array.from(a), (v) => BigInt(v)), dims)

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

export const runBert = async (bytes: Uint8Array, batch: TokenBatch): Promise<Float32Array> => {
  const session = await ort.InferenceSession.create(bytes)
  try {
    const dims = [batch.batch, batch.seqLen]
    const out = await session.run({
      input_ids: i64(batch.inputIds, dims),
      attention_mask: i64(batch.attentionMask!, dims),
      token_type_ids: i64(batch.tokenTypeIds ?? new Int32Array(batch.inputIds.length), dims)
    })
    return out.last_hidden_state.data as Float32Array
  } finally {
    await session.release()
  }
}

const runGpt2 = async (bytes: Uint8Array, batch: TokenBatch, positions: Int32Array, layers: number, heads: number, headDim: number) => {
  const session = await ort.InferenceSession.create(bytes)
  try {
    const dims = [batch.batch, batch.seqLen]
    const feeds: Record<string, ort.Tensor> = {
      input_ids: i64(batch.inputIds, dims), attention_mask: i64(batch.attentionMask!, dims), position_ids: i64(positions, dims)
    }
    for (let l = 0; l < layers; l++) {
      for (const kv of ["key", "value"]) feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor("float32", new Float32Array(0), [batch.batch, heads, 0, headDim])
    }
    const out = await session.run(feeds)
    return { hidden: out.last_hidden_state.data as Float32Array, logits: out.logits.data as Float32Array }
  } finally {
    await session.release()
  }
}

const bertBatch = (vocab: number, seed: number): TokenBatch => {
  const rng = new Rng(seed)
  const seqs = [9, 5, 12].map((n) => [2, ...Array.from({ length: n }, () => 5 + rng.int(vocab - 5)), 3])
  const b = padBatch(seqs)
  return { ...b, tokenTypeIds: Int32Array.from(b.inputIds, (_, t) => ((t % b.seqLen) > 4 && b.attentionMask![t] ? 1 : 0)) }
}

describe("BERT weights from ONNX", () => {
  it("tiny-bert: the TypeScript forward equals onnxruntime's within 1e-4 (padded batch, token types)", async () => {
    const loaded = loadOnnxModel(tiny("tiny-bert"))
    expect(loaded.architecture).toBe("bert")
    const model = loaded.model as BertEncoder
    expect(loaded.sources.get("encoder.layer.1.attention.self.query.weight")).toEqual(["encoder.layer.1.attention.self.query.weight"])
    const batch = bertBatch(model.config.vocabSize, 1)
    const ours = model.forward(batch)
    const theirs = await runBert(loaded.bytes, batch)
    expect(maxAbsDiff(ours.data, theirs)).toBeLessThan(1e-4)
  })

  it("round trip: perturbed weights exported as the same graph reload identically in onnxruntime and transformers.js", async () => {
    const loaded = loadOnnxModel(tiny("tiny-bert"))
    const model = loaded.model as BertEncoder
    const rng = new Rng(4)
    for (const p of model.allParams()) for (let i = 0; i < p.value.length; i++) p.value[i] += rng.normal(0, 0.05)
    const dir = join(scratch, "bert-perturbed")
    saveOnnxModelFolder(loaded, dir)
    const bytes = new Uint8Array(readFileSync(join(dir, "onnx", "model.onnx")))
    expect(bytes.length).toBe(loaded.bytes.length)
    const batch = bertBatch(model.config.vocabSize, 2)
    const ours = model.forward(batch)
    const before = await runBert(loaded.bytes, batch)
    const after = await runBert(bytes, batch)
    expect(maxAbsDiff(ours.data, before)).toBeGreaterThan(1e-2) // the perturbation is visible
    expect(maxAbsDiff(ours.data, after)).toBeLessThan(1e-4)
    // reloading the exported file gives back exactly the perturbed parameters
    const again = loadOnnxModel(dir).model as BertEncoder
    again.allParams().forEach((p, k) => expect(maxAbsDiff(p.value, model.allParams()[k].value)).toBe(0))
    // transformers.js loads the folder unchanged and computes the same hidden states
    env.allowRemoteModels = false
    env.localModelPath = scratch
    const tjs = await AutoModel.from_pretrained("bert-perturbed", { dtype: "fp32" })
    try {
      const dims = [batch.batch, batch.seqLen]
      const big = (a: ArrayLike<number>) => BigInt64Array.from(Array.from(a), (v) => BigInt(v))
      const out = await tjs({
        input_ids: new Tensor("int64", big(batch.inputIds), dims),
        attention_mask: new Tensor("int64", big(batch.attentionMask!), dims),
        token_type_ids: new Tensor("int64", big(batch.tokenTypeIds!), dims)
      })
      expect(maxAbsDiff(ours.data, out.last_hidden_state.data as Float32Array)).toBeLessThan(1e-4)
    } finally {
      await tjs.dispose()
    }
  })

  it("LoRA adapters are merged at export; the model keeps its adapters", async () => {
    const loaded = loadOnnxModel(tiny("tiny-bert"))
    const model = loaded.model as BertEncoder
    const adapters = addLora(model, { rank: 4, alpha: 8, seed: 1, feedForward: true })
    const rng = new Rng(2)
    for (const a of adapters) rng.fillNormal(a.b.value, 0, 0.1)
    const batch = bertBatch(model.config.vocabSize, 3)
    const ours = model.forward(batch)
    const exported = exportOnnxModel(loaded)
    expect(model.attentionProjections().every((d) => d.adapter !== undefined)).toBe(true)
    expect(maxAbsDiff(ours.data, await runBert(loaded.bytes, batch))).toBeGreaterThan(1e-3)
    expect(maxAbsDiff(ours.data, await runBert(exported, batch))).toBeLessThan(1e-4)
  })
})

describe("GPT-2 weights from ONNX", () => {
  for (const side of ["right", "left"] as const) {
    it(`tiny-gpt2 (${side} padding): hidden states and logits equal onnxruntime's within 1e-4`, async () => {
      const loaded = loadOnnxModel(tiny("tiny-gpt2"))
      expect(loaded.architecture).toBe("gpt2")
      const model = loaded.model as Gpt2Decoder
      expect(model.lmHead).toBeDefined() // tiny-gpt2 has tie_word_embeddings: false
      const rng = new Rng(5)
      const batch = padBatch([7, 3, 10].map((n) => Array.from({ length: n }, () => rng.int(model.config.vocabSize))), { side, padId: 1279 })
      const positions = model.positionsOf(batch)
      const hidden = model.forward(batch)
      const logits = model.logits(hidden)
      const { numHeads, hiddenSize, numLayers } = model.config
      const ref = await runGpt2(loaded.bytes, batch, positions, numLayers, numHeads, hiddenSize / numHeads)
      expect(maxAbsDiff(hidden.data, ref.hidden)).toBeLessThan(1e-4)
      expect(maxAbsDiff(logits.data, ref.logits)).toBeLessThan(1e-4)
    })
  }

  it("round trip through onnxruntime and transformers.js after one LM training step", async () => {
    const loaded = loadOnnxModel(tiny("tiny-gpt2"))
    const model = loaded.model as Gpt2Decoder
    const batch = padBatch([[5, 9, 13, 200, 7], [40, 41, 42]])
    const before = model.logits(model.forward(batch))
    model.languageModelLoss(batch, {}, true)
    for (const p of model.params()) for (let i = 0; i < p.value.length; i++) p.value[i] -= 0.5 * p.grad[i]
    const positions = model.positionsOf(batch)
    const { numHeads, hiddenSize, numLayers } = model.config
    const dir = join(scratch, "gpt2-trained")
    saveOnnxModelFolder(loaded, dir)
    const ref = await runGpt2(new Uint8Array(readFileSync(join(dir, "onnx", "model.onnx"))), batch, positions, numLayers, numHeads, hiddenSize / numHeads)
    const logits = model.logits(model.forward(batch))
    expect(maxAbsDiff(logits.data, before.data)).toBeGreaterThan(1e-2)
    expect(maxAbsDiff(logits.data, ref.logits)).toBeLessThan(1e-4)
    // transformers.js (its own position ids and empty KV cache) on the exported folder, one unpadded prompt
    env.allowRemoteModels = false
    env.localModelPath = scratch
    const tjs = await AutoModelForCausalLM.from_pretrained("gpt2-trained", { dtype: "fp32" })
    try {
      const prompt = [5, 9, 13, 200, 7]
      const ids = new Tensor("int64", BigInt64Array.from(prompt, (v) => BigInt(v)), [1, 5])
      const mask = new Tensor("int64", new BigInt64Array(5).fill(1n), [1, 5])
      const out = await tjs({ input_ids: ids, attention_mask: mask })
      const ours = model.logits(model.forward(padBatch([prompt])))
      expect(maxAbsDiff(ours.data, out.logits.data as Float32Array)).toBeLessThan(1e-4)
    } finally {
      await tjs.dispose()
    }
  })
})

describe("refusals", () => {
  it("a graph that shares one initializer between two parameters refuses to export them once they differ", () => {
    const loaded = loadOnnxModel(tiny("tiny-bert"))
    // Simulate torch.onnx's deduplication of equal tensors: bind layer 1's query bias to layer 0's initializer.
    const q0 = loaded.bindings.find((b) => b.param.name === "encoder.layer.0.attention.self.query.bias")!
    const q1 = loaded.bindings.find((b) => b.param.name === "encoder.layer.1.attention.self.query.bias")!
    const shared = { ...loaded, bindings: loaded.bindings.map((b) => (b === q1 ? { ...b, initializer: q0.initializer } : b)) }
    q1.param.value.set(q0.param.value)
    expect(exportOnnxModel(shared).length).toBe(loaded.bytes.length) // equal values: fine
    q1.param.value[0] += 0.5
    expect(() => exportOnnxModel(shared)).toThrow(/initializer "encoder.layer.0.attention.self.query.bias" is shared by .* whose values now differ/)
  })

  const bertConfig = JSON.parse(readFileSync(join(tiny("tiny-bert"), "config.json"), "utf8")) as Record<string, unknown>

  it("an op the engine does not implement is named with its node", () => {
    const g = new GraphBuilder("fused")
    const x = g.input("input_ids", "int64", ["b", "s"])
    g.output(g.op("Attention", [x], {}, { name: "Attention_0", domain: "com.microsoft" }), { name: "last_hidden_state", dataType: "float32" })
    expect(() => loadOnnxModelBytes(g.toModel({ opset: 17, opsets: { "com.microsoft": 1 } }), bertConfig, "fused.onnx"))
      .toThrow(/fused.onnx: node "Attention_0" has op com.microsoft.Attention/)
  })

  it("an unknown model type, a missing weight and an unclaimed weight matrix are refused", () => {
    const bytes = new Uint8Array(readFileSync(join(tiny("tiny-bert"), "onnx", "model.onnx")))
    expect(() => loadOnnxModelBytes(bytes, { ...bertConfig, model_type: "t5" })).toThrow(/model_type "t5" is not supported/)
    expect(() => loadOnnxModelBytes(bytes, { ...bertConfig, num_hidden_layers: 3 })).toThrow(/no initializer holds encoder.layer.2/)
    expect(() => loadOnnxModelBytes(bytes, { ...bertConfig, num_hidden_layers: 1 })).toThrow(/initializer "encoder.layer.1.attention.self.query.weight" .* not a bert parameter/)
    expect(() => loadOnnxModelBytes(bytes, { ...bertConfig, hidden_act: "mish" })).toThrow(/activation "mish" is not supported/)
  })
})


describe("MiniLM-L6-shaped encoder (6 x 384, 12 heads, 30522 vocab)", () => {
  it("the TypeScript forward equals onnxruntime's within 1e-4", async () => {
    const { buildBenchModel } = await import("@embedflow/tiny-models")
    const { dir } = buildBenchModel("minilm-l6-random")
    const loaded = loadOnnxModel(dir)
    const model = loaded.model as BertEncoder
    expect([model.config.numLayers, model.config.hiddenSize, model.config.numHeads, model.config.intermediateSize]).toEqual([6, 384, 12, 1536])
    const rng = new Rng(8)
    const batch = padBatch([14, 6].map((n) => [2, ...Array.from({ length: n }, () => 5 + rng.int(30000)), 3]))
    const ours = model.forward(batch)
    const theirs = await runBert(loaded.bytes, batch)
    expect(maxAbsDiff(ours.data, theirs)).toBeLessThan(1e-4)
  })
})
