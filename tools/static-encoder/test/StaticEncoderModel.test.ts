import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as ort from "onnxruntime-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { averageWordVectors, type GloveVectors, ONNX_FILES, sifWeights, tokenize, writeModelFiles } from "../src/index.js"
import { encodeWithOnnx, loadStsTest, loadTokenizer } from "./helpers.js"

/** A small real-format model: words seen in STS-B test (every 3rd left out, to exercise [UNK]) with seeded vectors. */
const sliceVectors = (sentences: ReadonlyArray<string>, dim: number): GloveVectors => {
  const seen = new Set<string>()
  for (const s of sentences) for (const t of tokenize(s)) seen.add(t)
  const words = [...seen].filter((_, i) => i % 3 !== 0)
  let seed = 12345
  const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5
  const vectors = Float32Array.from({ length: words.length * dim }, next)
  return { words, dim, vectors, rows: words.length, sourceSize: words.length * 2, index: new Map(words.map((w, i) => [w, i])) }
}

const sts = loadStsTest()
const sentences = [...sts.s1, ...sts.s2]
const dim = 8
const vectors = sliceVectors(sentences, dim)
let dir = ""

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "static-encoder-"))
  writeModelFiles(dir, vectors)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("static encoder model folder (vocabulary slice)", () => {
  it("transformers.js tokenizes every STS-B test sentence exactly as `tokenize`, ids included", async () => {
    const tokenizer = await loadTokenizer(dir)
    let unknown = 0
    for (const s of sentences) {
      const tokens = tokenize(s)
      expect(tokenizer.tokenize(s)).toEqual(tokens)
      const ids = tokenizer.encode(s)
      expect(ids).toEqual(tokens.map((t) => (vectors.index.has(t) ? vectors.index.get(t)! + 2 : 1)))
      unknown += ids.filter((i) => i === 1).length
    }
    expect(unknown).toBeGreaterThan(0)
    expect(tokenizer.pad_token_id).toBe(0)
    expect(tokenizer.unk_token_id).toBe(1)
  })

  it("tokenize: lower-cased words with attached clitics, every other symbol alone", () => {
    expect(tokenize("Don't stop: the woman's E-mail costs $3.50 (café)…")).toEqual(
      ["don't", "stop", ":", "the", "woman's", "e", "-", "mail", "costs", "$", "3", ".", "50", "(", "caf", "é", ")", "…"]
    )
    expect(tokenize("  \t\n")).toEqual([])
  })

  for (const variant of ["mean", "sif"] as const) {
    it(`${variant}: masked mean pooling of last_hidden_state through onnxruntime-node equals the TypeScript average`, async () => {
      const tokenizer = await loadTokenizer(dir)
      const session = await ort.InferenceSession.create(join(dir, ONNX_FILES[variant]))
      try {
        expect(session.inputNames).toEqual(["input_ids", "attention_mask"])
        expect(session.outputNames).toEqual(["last_hidden_state", "token_weights", "token_scale"])
        const texts = [...sentences.slice(0, 300), "", "zzzz qqqq", "A"]
        const onnx = await encodeWithOnnx(tokenizer, session, texts, 37)
        const weights = variant === "sif" ? sifWeights(vectors.rows, vectors.sourceSize) : undefined
        const ref = averageWordVectors(vectors, texts, weights !== undefined ? { weights } : {})
        let worst = 0
        for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(onnx[i]! - ref[i]!))
        expect(worst).toBeLessThan(1e-6)
        // Texts with no known word pool to zero, not NaN.
        expect(Array.from(onnx.subarray(300 * dim, 303 * dim)).every((v) => v === 0)).toBe(true)
      } finally {
        await session.release()
      }
    })
  }

  it("token_weights are the SIF weights of known tokens, 0 for [PAD], [UNK] and masked positions", async () => {
    const session = await ort.InferenceSession.create(join(dir, ONNX_FILES.mean))
    const w = vectors.words
    const ids = BigInt64Array.from([2n, 1n, 0n, BigInt(w.length + 1), 5n, 3n])
    const mask = BigInt64Array.from([1n, 1n, 0n, 1n, 1n, 0n])
    const out = await session.run({ input_ids: new ort.Tensor("int64", ids, [2, 3]), attention_mask: new ort.Tensor("int64", mask, [2, 3]) })
    const sif = sifWeights(vectors.rows, vectors.sourceSize)
    expect(Array.from(out.token_weights!.data as Float32Array)).toEqual([sif[0], 0, 0, sif[w.length - 1], sif[3], 0])
    expect(out.last_hidden_state!.dims).toEqual([2, 3, dim])
    await session.release()
  })

  for (const variant of ["mean", "sif"] as const) {
    it(`${variant}: last_hidden_state[b, t] = token_scale[b, t] · E[input_ids[b, t]] (the bag-of-vectors contract)`, async () => {
      const session = await ort.InferenceSession.create(join(dir, ONNX_FILES[variant]))
      const ids = BigInt64Array.from([2n, 1n, 7n, 0n, BigInt(vectors.rows + 1), 5n, 3n, 9n])
      const mask = BigInt64Array.from([1n, 1n, 1n, 0n, 1n, 1n, 1n, 1n])
      const out = await session.run({ input_ids: new ort.Tensor("int64", ids, [2, 4]), attention_mask: new ort.Tensor("int64", mask, [2, 4]) })
      const hidden = out.last_hidden_state!.data as Float32Array
      const scale = out.token_scale!.data as Float32Array
      const sif = sifWeights(vectors.rows, vectors.sourceSize)
      // Row 0: 3 attended, 2 known ([UNK] at t=1), so known tokens are scaled by 3/2 (times SIF).
      const expected = [1.5 * (variant === "sif" ? sif[0]! : 1), 0, 1.5 * (variant === "sif" ? sif[5]! : 1), 0]
      expected.forEach((e, t) => expect(scale[t]).toBeCloseTo(e, 6))
      for (let p = 0; p < 8; p++) {
        const id = Number(ids[p]!)
        for (let k = 0; k < dim; k++) {
          const e = id >= 2 ? vectors.vectors[(id - 2) * dim + k]! : 0
          expect(Math.abs(hidden[p * dim + k]! - scale[p]! * e)).toBeLessThan(1e-6)
        }
      }
      expect(Array.from(scale.subarray(4)).every((v) => v > 0)).toBe(true)
      await session.release()
    })
  }

  it("config.json carries what a generic Encoder needs", () => {
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"))
    expect(config.hidden_size).toBe(dim)
    expect(config.vocab_size).toBe(vectors.rows + 2)
    expect(config.static_encoder.onnx_files).toEqual(ONNX_FILES)
  })
})
