import { readFileSync } from "node:fs"
import { join } from "node:path"
import * as ort from "onnxruntime-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  bertClassifierWeights,
  bertWeights,
  END_OF_TEXT,
  gpt2PromptFeeds,
  gpt2Weights,
  tinyBertConfig,
  tinyGpt2Config
} from "../src/index.js"
import { buildTemp, maxAbsDiff } from "./helpers.js"
import { bertClassify, bertForward, erf, gpt2Forward, gpt2Hidden } from "./reference.js"

const SEED = 42 // buildTinyModels' default
let dir = ""
const sessions: Array<ort.InferenceSession> = []
const open = async (name: string) => {
  const s = await ort.InferenceSession.create(join(dir, name, "onnx/model.onnx"))
  sessions.push(s)
  return s
}
const vocabSize = (name: string): number => JSON.parse(readFileSync(join(dir, name, "config.json"), "utf8")).vocab_size
const i64 = (rows: number[][]) => new ort.Tensor("int64", BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0].length])

beforeAll(() => {
  dir = buildTemp()
})
afterAll(async () => {
  for (const s of sessions) await s.release()
})

describe("float64 reference forward passes", () => {
  it("reference erf is accurate", () => {
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 14)
    expect(erf(-1)).toBeCloseTo(-0.8427007929497149, 14)
    expect(erf(3)).toBeCloseTo(0.9999779095030014, 14)
  })

  it("tiny-bert ONNX last_hidden_state matches the reference (padding, token types)", async () => {
    const config = tinyBertConfig(vocabSize("tiny-bert"))
    const W = bertWeights(config, SEED)
    const ids = [[2, 43, 129, 127, 143, 3, 900, 1500, 3], [2, 77, 512, 3, 0, 0, 0, 0, 0]]
    const mask = [[1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0, 0, 0]]
    const types = [[0, 0, 0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0, 0, 0]]
    const s = await open("tiny-bert")
    const out = await s.run({ input_ids: i64(ids), attention_mask: i64(mask), token_type_ids: i64(types) })
    const h = out.last_hidden_state
    expect(h.dims).toEqual([2, 9, 32])
    const ref = ids.flatMap((row, b) => bertForward(config, W, row, mask[b], types[b]).flatMap((r) => Array.from(r)))
    const diff = maxAbsDiff(h.data as Float32Array, ref)
    expect(diff).toBeLessThan(1e-4)
    // padding keys are masked out: the real tokens of sequence 2 equal an unpadded run
    const unpadded = bertForward(config, W, ids[1].slice(0, 4), [1, 1, 1, 1], [0, 0, 0, 0]).flatMap((r) => Array.from(r))
    expect(maxAbsDiff((h.data as Float32Array).subarray(9 * 32, 9 * 32 + 4 * 32), unpadded)).toBeLessThan(1e-4)
  })

  it("tiny-bert-cross logits match the reference classifier", async () => {
    const config = tinyBertConfig(vocabSize("tiny-bert-cross"))
    const W = bertWeights(config, SEED)
    const C = bertClassifierWeights(config, SEED + 1)
    const ids = [[2, 43, 129, 3, 60, 61, 3], [2, 300, 3, 301, 302, 3, 0]]
    const mask = [[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 0]]
    const types = [[0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1, 0]]
    const out = await (await open("tiny-bert-cross")).run({ input_ids: i64(ids), attention_mask: i64(mask), token_type_ids: i64(types) })
    expect(out.logits.dims).toEqual([2, 1])
    const ref = ids.map((row, b) => bertClassify(bertForward(config, W, row, mask[b], types[b]), C))
    expect(maxAbsDiff(out.logits.data as Float32Array, ref)).toBeLessThan(1e-4)
  })

  it("tiny-gpt2 ONNX logits match the reference causal LM", async () => {
    const tok = JSON.parse(readFileSync(join(dir, "tiny-gpt2", "tokenizer.json"), "utf8"))
    const config = tinyGpt2Config(vocabSize("tiny-gpt2"), tok.model.vocab[END_OF_TEXT])
    const W = gpt2Weights(config, SEED + 2)
    const ids = [65, 299, 280, 397, 12, 1000, 5]
    const s = await open("tiny-gpt2")
    const out = await s.run(gpt2PromptFeeds(ids, config, (type, data, dims) => new ort.Tensor(type, data, [...dims])))
    expect(out.logits.dims).toEqual([1, ids.length, config.vocabSize])
    const ref = gpt2Forward(config, W, ids).flatMap((r) => Array.from(r))
    expect(maxAbsDiff(out.logits.data as Float32Array, ref)).toBeLessThan(1e-4)
    expect(out.last_hidden_state.dims).toEqual([1, ids.length, config.nEmbd])
    const hidden = gpt2Hidden(config, W, ids).flatMap((r) => Array.from(r))
    expect(maxAbsDiff(out.last_hidden_state.data as Float32Array, hidden)).toBeLessThan(1e-5)
  })

  it("tiny-gpt2 last_hidden_state with left padding and a KV cache equals the unpadded reference", async () => {
    const tok = JSON.parse(readFileSync(join(dir, "tiny-gpt2", "tokenizer.json"), "utf8"))
    const config = tinyGpt2Config(vocabSize("tiny-gpt2"), tok.model.vocab[END_OF_TEXT])
    const W = gpt2Weights(config, SEED + 2)
    const pad = tok.model.vocab[END_OF_TEXT]
    const a = [65, 299, 280, 397, 12, 1000]
    const b = [77, 512, 9]
    const s = await open("tiny-gpt2")
    const heads = config.nHead
    const hd = config.nEmbd / heads
    const empty = new ort.Tensor("float32", new Float32Array(0), [2, heads, 0, hd])
    // prompt of all but the last token (b left-padded), then one cached step with the last tokens
    const ids = [a.slice(0, -1), [pad, pad, pad, ...b.slice(0, -1)]]
    const mask = [[1, 1, 1, 1, 1], [0, 0, 0, 1, 1]]
    const pos = mask.map((row) => row.map((_, i) => Math.max(0, i - row.indexOf(1))))
    const feeds: Record<string, ort.Tensor> = { input_ids: i64(ids), attention_mask: i64(mask), position_ids: i64(pos) }
    for (let l = 0; l < config.nLayer; l++) feeds[`past_key_values.${l}.key`] = feeds[`past_key_values.${l}.value`] = empty
    const first = await s.run(feeds)
    const step: Record<string, ort.Tensor> = {
      input_ids: i64([[a[a.length - 1]], [b[b.length - 1]]]),
      attention_mask: i64(mask.map((row) => [...row, 1])),
      position_ids: i64([[a.length - 1], [b.length - 1]])
    }
    for (let l = 0; l < config.nLayer; l++) {
      step[`past_key_values.${l}.key`] = first[`present.${l}.key`]
      step[`past_key_values.${l}.value`] = first[`present.${l}.value`]
    }
    const last = (await s.run(step)).last_hidden_state
    expect(last.dims).toEqual([2, 1, config.nEmbd])
    const data = last.data as Float32Array
    const refA = gpt2Hidden(config, W, a)
    const refB = gpt2Hidden(config, W, b)
    expect(maxAbsDiff(data.subarray(0, config.nEmbd), refA[a.length - 1])).toBeLessThan(1e-5)
    expect(maxAbsDiff(data.subarray(config.nEmbd), refB[b.length - 1])).toBeLessThan(1e-5)
    // the real tokens of the padded prompt row equal the unpadded reference too
    const h0 = first.last_hidden_state.data as Float32Array
    for (let i = 0; i < b.length - 1; i++) {
      expect(maxAbsDiff(h0.subarray((5 + 3 + i) * config.nEmbd, (5 + 4 + i) * config.nEmbd), refB[i])).toBeLessThan(1e-5)
    }
  })
})
