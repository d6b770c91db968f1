/**
 * Every transformer layer's backward against float64 central differences of an independent
 * float64 forward (test/layers64.ts); expectGradClose refuses all-zero numeric gradients.
 */
import { describe, expect, it } from "vitest"
import {
  ActivationLayer, type ActivationKind, addLora, BertEncoder, type BertConfig, Dense, Dropout, Embedding, Gpt2Decoder,
  type DecoderConfig, LayerNorm, matrix, type Matrix, mergeLora, MultiHeadAttention, type Parameter, Pooling, Rng,
  SentenceEmbedder, padBatch
} from "../src/index.js"
import {
  act64, attention64, bert64, type Bert64Config, decoder64, dense64, dot64, gather64, layerNorm64, lmLoss64, type Params64
} from "./layers64.js"
import { expectGradClose, m64, normalize64, numericGrad, testData } from "./reference.js"

const mat = (rows: number, cols: number, seed: number, scale = 1): Matrix => matrix(rows, cols, testData(rows * cols, seed, scale))
const f64 = (a: ArrayLike<number>) => Float64Array.from(a)
const toM64 = (rows: number, cols: number, data: Float64Array) => m64(rows, cols, data)

describe("Dense", () => {
  it("dX, dW, db match central differences", () => {
    const x = mat(5, 4, 1), w = testData(12, 2), b = testData(3, 3), dy = testData(15, 4)
    const layer = new Dense("d", 4, 3)
    layer.weight.value.set(w)
    layer.bias!.value.set(b)
    layer.forward(x, { keep: true })
    const dX = layer.backward(matrix(5, 3, dy))
    const x64 = f64(x.data), w64 = f64(w), b64 = f64(b)
    const f = () => dot64(dy, dense64(toM64(5, 4, x64), w64, b64, 3))
    expectGradClose(dX.data, numericGrad(f, x64), "dX")
    expectGradClose(layer.weight.grad, numericGrad(f, w64), "dW")
    expectGradClose(layer.bias!.grad, numericGrad(f, b64), "db")
  })

  it("refuses a second backward without a kept forward", () => {
    const layer = new Dense("d", 2, 2)
    layer.forward(mat(1, 2, 1))
    expect(() => layer.backward(mat(1, 2, 2))).toThrow(/no activations kept/)
  })
})

describe("LayerNorm", () => {
  it("dX, dγ, dβ match central differences", () => {
    const x = mat(4, 6, 5, 2), dy = testData(24, 6)
    const ln = new LayerNorm("ln", 6, 1e-5)
    ln.weight.value.set(testData(6, 7, 0.5).map((v) => v + 1))
    ln.bias.value.set(testData(6, 8))
    ln.forward(x, { keep: true })
    const dX = ln.backward(matrix(4, 6, dy))
    const x64 = f64(x.data), g64 = f64(ln.weight.value), b64 = f64(ln.bias.value)
    const f = () => dot64(dy, layerNorm64(toM64(4, 6, x64), g64, b64, 1e-5))
    expectGradClose(dX.data, numericGrad(f, x64), "dX")
    expectGradClose(ln.weight.grad, numericGrad(f, g64), "dγ")
    expectGradClose(ln.bias.grad, numericGrad(f, b64), "dβ")
  })
})

describe("activations", () => {
  for (const kind of ["gelu", "gelu_tanh", "relu", "silu"] as const satisfies ReadonlyArray<ActivationKind>) {
    it(`${kind}: forward equals the float64 reference and dX matches central differences`, () => {
      const x = mat(3, 7, 9, 2.5), dy = testData(21, 10)
      const a = new ActivationLayer(kind)
      const y = a.forward(x, { keep: true })
      y.data.forEach((v, i) => expect(Math.abs(v - act64(kind, x.data[i]))).toBeLessThan(1e-6))
      const dX = a.backward(matrix(3, 7, dy))
      const x64 = f64(x.data)
      expectGradClose(dX.data, numericGrad(() => x64.reduce((s, v, i) => s + dy[i] * act64(kind, v), 0), x64), kind)
    })
  }
})

describe("Embedding", () => {
  it("backward scatters (repeated ids accumulate) and matches central differences", () => {
    const e = new Embedding("emb", 6, 3)
    e.weight.value.set(testData(18, 11))
    const ids = Int32Array.of(2, 5, 2, 0)
    const dy = testData(12, 12)
    e.forward(ids)
    e.backward(ids, matrix(4, 3, dy))
    const t64 = f64(e.weight.value)
    expectGradClose(e.weight.grad, numericGrad(() => dot64(dy, gather64(t64, 3, ids)), t64), "dE")
    expect(Array.from(e.weight.grad.subarray(3, 6))).toEqual([0, 0, 0]) // id 1 never looked up
    expect(() => e.forward(Int32Array.of(6))).toThrow(/index 6 at position 0 is outside 0..5/)
  })
})

describe("MultiHeadAttention", () => {
  const cases: Array<[string, Uint8Array | undefined, boolean]> = [
    ["no mask", undefined, false],
    ["padding mask", Uint8Array.of(1, 1, 1, 0, 1, 1, 0, 0), false],
    ["causal", undefined, true],
    ["causal + left padding (a fully masked query row)", Uint8Array.of(0, 1, 1, 1, 1, 1, 1, 0), true]
  ]
  for (const [name, mask, causal] of cases) {
    it(`${name}: forward equals the reference, dQ dK dV match central differences`, () => {
      const B = 2, S = 4, H = 6, heads = 2
      const q = mat(B * S, H, 21, 1.5), k = mat(B * S, H, 22, 1.5), v = mat(B * S, H, 23), dy = testData(B * S * H, 24)
      const attn = new MultiHeadAttention("attn", H, heads)
      const out = attn.forward(q, k, v, { batch: B, seqLen: S }, { padding: mask, causal }, { keep: true })
      const q64 = f64(q.data), k64 = f64(k.data), v64 = f64(v.data)
      const ref = () => attention64(toM64(B * S, H, q64), toM64(B * S, H, k64), toM64(B * S, H, v64), B, S, heads, mask, causal)
      ref().data.forEach((r, i) => expect(Math.abs(r - out.data[i])).toBeLessThan(1e-5))
      const { dQ, dK, dV } = attn.backward(matrix(B * S, H, dy))
      const f = () => dot64(dy, ref())
      expectGradClose(dQ.data, numericGrad(f, q64), "dQ")
      expectGradClose(dK.data, numericGrad(f, k64), "dK")
      expectGradClose(dV.data, numericGrad(f, v64), "dV")
    })
  }
})

describe("Dropout", () => {
  it("is the identity in eval and when p = 0", () => {
    const x = mat(3, 4, 30)
    expect(new Dropout(0.5).forward(x, { train: false }).data).toEqual(x.data)
    expect(new Dropout(0).forward(x, { train: true, rng: new Rng(1) }).data).toEqual(x.data)
  })

  it("drops about p, replays with the same seed, and dX matches central differences with the drawn mask", () => {
    const x = mat(40, 50, 31), dy = testData(2000, 32)
    const d = new Dropout(0.25)
    const y = d.forward(x, { train: true, keep: true, rng: new Rng(7) })
    const again = new Dropout(0.25).forward(x, { train: true, rng: new Rng(7) })
    expect(again.data).toEqual(y.data)
    const keep = Array.from(y.data, (v) => (v !== 0 ? 1 : 0))
    const dropped = keep.filter((k) => k === 0).length / keep.length
    expect(dropped).toBeGreaterThan(0.2)
    expect(dropped).toBeLessThan(0.3)
    const dX = d.backward(matrix(40, 50, dy))
    const x64 = f64(x.data)
    expectGradClose(dX.data, numericGrad(() => x64.reduce((s, v, i) => s + (dy[i] * v * keep[i]) / 0.75, 0), x64), "dX")
    expect(() => new Dropout(0.1).forward(x, { train: true })).toThrow(/needs ctx.rng/)
  })
})

describe("Pooling", () => {
  const B = 3, S = 4, H = 5
  const mask = Uint8Array.of(1, 1, 1, 0, 1, 0, 0, 0, 0, 1, 1, 1) // right, right, left padding
  const pool64 = (kind: "mean" | "cls" | "last", h: Float64Array) => {
    const y = m64(B, H)
    for (let b = 0; b < B; b++) {
      const rows = [...Array(S).keys()].filter((s) => mask[b * S + s] === 1)
      const use = kind === "cls" ? [0] : kind === "last" ? [rows[rows.length - 1]] : rows
      for (const s of use) for (let j = 0; j < H; j++) y.data[b * H + j] += h[(b * S + s) * H + j] / use.length
    }
    return y
  }
  for (const kind of ["mean", "cls", "last"] as const) {
    it(`${kind}: forward equals the reference and dH matches central differences`, () => {
      const h = mat(B * S, H, 40), dy = testData(B * H, 41)
      const p = new Pooling(kind)
      const y = p.forward(h, { batch: B, seqLen: S }, mask, { keep: true })
      const h64 = f64(h.data)
      pool64(kind, h64).data.forEach((r, i) => expect(Math.abs(r - y.data[i])).toBeLessThan(1e-6))
      expectGradClose(p.backward(matrix(B, H, dy)).data, numericGrad(() => dot64(dy, pool64(kind, h64)), h64), kind)
    })
  }
})

// ---- whole models ----------------------------------------------------------------------------

const paramsOf64 = (ps: ReadonlyArray<Parameter>): Params64 => new Map(ps.map((p) => [p.name, f64(p.value)]))

/** Checks every parameter gradient of `params` against central differences of f over `p64`. */
const checkAllParams = (params: ReadonlyArray<Parameter>, p64: Params64, f: () => number): void => {
  let checked = 0
  for (const p of params) {
    // softmax(q·(k + b)) = softmax(q·k): the key bias has an exactly zero gradient, so its check is
    // "the analytic gradient is zero too" rather than a relative error against zero.
    if (/(key|k_proj)\.bias$/.test(p.name)) {
      const numeric = numericGrad(f, p64.get(p.name)!)
      for (let i = 0; i < numeric.length; i++) expect(Math.abs(numeric[i])).toBeLessThan(1e-8)
      for (let i = 0; i < numeric.length; i++) expect(Math.abs(p.grad[i])).toBeLessThan(1e-6)
      continue
    }
    expectGradClose(p.grad, numericGrad(f, p64.get(p.name)!), p.name)
    checked++
  }
  expect(checked).toBeGreaterThan(params.length / 2)
}

const randomize = (params: ReadonlyArray<Parameter>, seed: number, scale = 0.4) => {
  const rng = new Rng(seed)
  for (const p of params) {
    rng.fillNormal(p.value, 0, scale)
    if (p.name.endsWith("LayerNorm.weight") || p.name.endsWith("layer_norm.weight")) for (let i = 0; i < p.value.length; i++) p.value[i] += 1
  }
}

const bertConfig: BertConfig = {
  vocabSize: 12, hiddenSize: 8, numLayers: 2, numHeads: 2, intermediateSize: 12, maxPositions: 6, typeVocabSize: 2, layerNormEps: 1e-5
}
const bert64Config: Bert64Config = { hidden: 8, heads: 2, layers: 2, ffn: 12, eps: 1e-5, act: "gelu" }

describe("BertEncoder", () => {
  it("every parameter's gradient of Σ w ⊙ last_hidden_state matches central differences", () => {
    const model = new BertEncoder(bertConfig)
    randomize(model.allParams(), 50)
    const batch = { ...padBatch([[2, 5, 7, 3], [2, 9, 3]]), tokenTypeIds: Int32Array.of(0, 0, 1, 1, 0, 1, 1, 0) }
    const { batch: B, seqLen: S } = batch
    const w = testData(B * S * 8, 51)
    model.forward(batch, { keep: true })
    model.backward(matrix(B * S, 8, w))
    const p64 = paramsOf64(model.allParams())
    checkAllParams(model.params(), p64, () => dot64(w, bert64(p64, bert64Config, batch.inputIds, batch.tokenTypeIds, batch.attentionMask!, B, S)))
  })

  it("mean-pooled, L2-normalised sentence embeddings backpropagate into every parameter", () => {
    const model = new BertEncoder(bertConfig)
    randomize(model.allParams(), 52)
    const embedder = new SentenceEmbedder(model, { pooling: "mean" })
    const batch = padBatch([[2, 4, 3], [2, 6, 8, 10, 3]])
    const { batch: B, seqLen: S } = batch
    const w = testData(B * 8, 53)
    embedder.embed(batch, { keep: true })
    embedder.backward(matrix(B, 8, w))
    const p64 = paramsOf64(model.allParams())
    const f = () => {
      const h = bert64(p64, bert64Config, batch.inputIds, new Int32Array(B * S), batch.attentionMask!, B, S)
      const pooled = m64(B, 8)
      for (let b = 0; b < B; b++) {
        const n = batch.attentionMask!.subarray(b * S, b * S + S).reduce((a, c) => a + c, 0)
        for (let s = 0; s < S; s++) if (batch.attentionMask![b * S + s]) for (let j = 0; j < 8; j++) pooled.data[b * 8 + j] += h.data[(b * S + s) * 8 + j] / n
      }
      return dot64(w, normalize64(pooled))
    }
    checkAllParams(model.params(), p64, f)
  })
})

const decoderConfig: DecoderConfig = {
  vocabSize: 10, hiddenSize: 8, numLayers: 2, numHeads: 2, intermediateSize: 16, maxPositions: 6, layerNormEps: 1e-5, activation: "gelu_tanh"
}

describe("Gpt2Decoder", () => {
  it("every parameter's gradient of the causal LM loss (tied head, padded batch) matches central differences", () => {
    const model = new Gpt2Decoder(decoderConfig)
    randomize(model.allParams(), 60)
    const batch = padBatch([[1, 4, 7, 2, 9], [3, 5, 8]])
    const { batch: B, seqLen: S } = batch
    const { loss } = model.languageModelLoss(batch, {}, true)
    const p64 = paramsOf64(model.allParams())
    const positions = model.positionsOf(batch)
    const f = () => lmLoss64(decoder64(p64, { ...bert64Config, ffn: 16, act: "gelu_tanh" }, batch.inputIds, positions, batch.attentionMask!, B, S), p64.get("embed_tokens.weight")!, 10, batch.inputIds, batch.attentionMask!, B, S)
    expect(Math.abs(loss - f())).toBeLessThan(1e-5)
    checkAllParams(model.params(), p64, f)
  })

  it("the target-masked loss (answer tokens only) and its gradients match central differences", () => {
    const model = new Gpt2Decoder(decoderConfig)
    randomize(model.allParams(), 61)
    const batch = padBatch([[1, 4, 7, 2, 9], [3, 5, 8]])
    const { batch: B, seqLen: S } = batch
    // Score only positions 3..4 of row 0 and position 2 of row 1 (the "answers").
    const targetMask = new Uint8Array([0, 0, 0, 1, 1, 0, 0, 1, 0, 0])
    const { loss, tokens } = model.languageModelLoss(batch, {}, true, targetMask)
    expect(tokens).toBe(3)
    const p64 = paramsOf64(model.allParams())
    const positions = model.positionsOf(batch)
    const f = () => lmLoss64(decoder64(p64, { ...bert64Config, ffn: 16, act: "gelu_tanh" }, batch.inputIds, positions, batch.attentionMask!, B, S), p64.get("embed_tokens.weight")!, 10, batch.inputIds, batch.attentionMask!, B, S, targetMask)
    const unmasked = lmLoss64(decoder64(p64, { ...bert64Config, ffn: 16, act: "gelu_tanh" }, batch.inputIds, positions, batch.attentionMask!, B, S), p64.get("embed_tokens.weight")!, 10, batch.inputIds, batch.attentionMask!, B, S)
    expect(Math.abs(loss - f())).toBeLessThan(1e-5)
    expect(Math.abs(loss - unmasked)).toBeGreaterThan(1e-3)
    checkAllParams(model.params(), p64, f)
    expect(() => model.languageModelLoss(batch, {}, false, new Uint8Array(3))).toThrow(/targetMask has 3 entries/)
    expect(() => model.languageModelLoss(batch, {}, false, new Uint8Array(10))).toThrow(/no scored/)
  })
})

describe("LoRA", () => {
  it("adapters on attention and FFN projections: dA, dB match central differences; base weights are frozen", () => {
    const model = new BertEncoder(bertConfig)
    randomize(model.allParams(), 70)
    const adapters = addLora(model, { rank: 2, alpha: 4, seed: 3, feedForward: true })
    expect(adapters.length).toBe(12)
    for (const a of adapters) new Rng(71).fillNormal(a.b.value, 0, 0.3) // non-zero B so dA is non-trivial
    expect(model.params().map((p) => p.name).every((n) => n.includes(".lora_"))).toBe(true)
    const batch = padBatch([[2, 5, 7, 3], [2, 9, 3]])
    const { batch: B, seqLen: S } = batch
    const w = testData(B * S * 8, 72)
    model.forward(batch, { keep: true })
    model.backward(matrix(B * S, 8, w))
    for (const p of model.allParams()) expect(p.grad.every((g) => g === 0)).toBe(true)
    const base = paramsOf64(model.allParams())
    const lora = paramsOf64(adapters.flatMap((a) => a.params()))
    const f = () => {
      const merged = new Map(base)
      for (const a of adapters) {
        const A = lora.get(a.a.name)!, Bm = lora.get(a.b.name)!, W = f64(base.get(a.base.weight.name)!)
        const { inputDim: n, outputDim: m } = a.base
        for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) for (let r = 0; r < a.rank; r++) W[i * m + j] += a.scale * A[i * a.rank + r] * Bm[r * m + j]
        merged.set(a.base.weight.name, W)
      }
      return dot64(w, bert64(merged, bert64Config, batch.inputIds, new Int32Array(B * S), batch.attentionMask!, B, S))
    }
    checkAllParams(model.params(), lora, f)
  })

  it("mergeLora leaves the forward unchanged and removes the adapters", () => {
    const model = new BertEncoder(bertConfig)
    randomize(model.allParams(), 73)
    const adapters = addLora(model, { rank: 3, seed: 4 })
    for (const a of adapters) new Rng(74).fillNormal(a.b.value, 0, 0.3)
    const batch = padBatch([[2, 5, 7, 3], [2, 9, 3]])
    const before = model.forward(batch)
    mergeLora(model)
    expect(model.attentionProjections().every((d) => d.adapter === undefined)).toBe(true)
    const after = model.forward(batch)
    after.data.forEach((v, i) => expect(Math.abs(v - before.data[i])).toBeLessThan(1e-5))
  })
})

describe("gradient accumulation", () => {
  it("two half-batch backward passes sum to the full batch's gradients", () => {
    const make = () => {
      const m = new BertEncoder(bertConfig)
      randomize(m.allParams(), 80)
      return m
    }
    const seqs = [[2, 5, 7, 3], [2, 9, 3, 0 + 4], [2, 6, 3], [2, 8, 8, 3]]
    const full = make(), halves = make()
    const w = testData(4 * 4 * 8, 81)
    const all = padBatch(seqs)
    full.forward(all, { keep: true })
    full.backward(matrix(16, 8, w))
    for (const [lo, hi] of [[0, 2], [2, 4]]) {
      const part = padBatch(seqs.slice(lo, hi), { length: 4 })
      halves.forward(part, { keep: true })
      halves.backward(matrix(8, 8, w.slice(lo * 32, hi * 32)))
    }
    const a = full.params(), b = halves.params()
    a.forEach((p, i) => p.grad.forEach((g, j) => expect(Math.abs(g - b[i].grad[j])).toBeLessThan(1e-5 + 1e-4 * Math.abs(g))))
  })
})
