import { readFileSync } from "node:fs"
import { join } from "node:path"
import * as ort from "onnxruntime-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { buildTemp, maxAbsDiff, softmax } from "./helpers.js"

let session: ort.InferenceSession
let cfg: { n_layer: number; n_head: number; n_embd: number; vocab_size: number }

beforeAll(async () => {
  const dir = buildTemp()
  cfg = JSON.parse(readFileSync(join(dir, "tiny-gpt2", "config.json"), "utf8"))
  session = await ort.InferenceSession.create(join(dir, "tiny-gpt2", "onnx/model.onnx"))
})
afterAll(async () => {
  await session.release()
})

const i64 = (rows: number[][]) => new ort.Tensor("int64", BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0].length])

/** One forward step. past: present.* tensors of the previous step, or null for an empty cache. */
const step = async (ids: number[][], mask: number[][], positions: number[][], past: ort.InferenceSession.OnnxValueMapType | null) => {
  const feeds: Record<string, ort.Tensor> = { input_ids: i64(ids), attention_mask: i64(mask), position_ids: i64(positions) }
  const empty = new ort.Tensor("float32", new Float32Array(0), [ids.length, cfg.n_head, 0, cfg.n_embd / cfg.n_head])
  for (let l = 0; l < cfg.n_layer; l++) {
    for (const kv of ["key", "value"]) {
      feeds[`past_key_values.${l}.${kv}`] = past ? (past[`present.${l}.${kv}`] as ort.Tensor) : empty
    }
  }
  return session.run(feeds)
}
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i)
const row = (logits: ort.Tensor, b: number, t: number): Float32Array => {
  const [, S, V] = logits.dims
  return (logits.data as Float32Array).subarray((b * S + t) * V, (b * S + t + 1) * V)
}
const argmax = (x: ArrayLike<number>) => {
  let best = 0
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i
  return best
}

describe("tiny-gpt2 KV cache (raw onnxruntime-node)", () => {
  it("exposes the transformers.js input/output names (plus last_hidden_state)", () => {
    const kv = range(0, cfg.n_layer).flatMap((l) => [`${l}.key`, `${l}.value`])
    expect(session.inputNames).toEqual(["input_ids", "attention_mask", "position_ids", ...kv.map((k) => `past_key_values.${k}`)])
    expect([...session.outputNames].sort()).toEqual(["last_hidden_state", "logits", ...kv.map((k) => `present.${k}`)].sort())
  })

  it("step-wise decoding with cache reuse equals full recompute (max abs diff < 1e-4)", async () => {
    const ids = [65, 299, 280, 397, 971, 346, 885, 1007, 612, 901, 33, 7]
    const full = (await step([ids], [ids.map(() => 1)], [range(0, ids.length)], null)).logits
    const prefill = 5
    let out = await step([ids.slice(0, prefill)], [range(0, prefill).map(() => 1)], [range(0, prefill)], null)
    let diff = 0
    for (let t = 0; t < prefill; t++) diff = Math.max(diff, maxAbsDiff(row(out.logits, 0, t), row(full, 0, t)))
    for (let t = prefill; t < ids.length; t++) {
      out = await step([[ids[t]]], [range(0, t + 1).map(() => 1)], [[t]], out)
      expect(out["present.0.key"].dims).toEqual([1, cfg.n_head, t + 1, cfg.n_embd / cfg.n_head])
      diff = Math.max(diff, maxAbsDiff(row(out.logits, 0, 0), row(full, 0, t)))
    }
    expect(diff).toBeLessThan(1e-4)
  })

  it("greedy decoding with the cache reproduces greedy full recompute, with peaked distributions", async () => {
    const prompt = [65, 299, 280, 397]
    const cached: number[] = []
    let out = await step([prompt], [prompt.map(() => 1)], [range(0, prompt.length)], null)
    let last = row(out.logits, 0, prompt.length - 1)
    for (let i = 0; i < 10; i++) {
      const next = argmax(last)
      expect(softmax(last)[next]).toBeGreaterThan(0.15)
      cached.push(next)
      const n = prompt.length + cached.length
      out = await step([[next]], [range(0, n).map(() => 1)], [[n - 1]], out)
      last = row(out.logits, 0, 0)
    }
    const recomputed: number[] = []
    for (let i = 0; i < 10; i++) {
      const seq = [...prompt, ...recomputed]
      const logits = (await step([seq], [seq.map(() => 1)], [range(0, seq.length)], null)).logits
      recomputed.push(argmax(row(logits, 0, seq.length - 1)))
    }
    expect(cached).toEqual(recomputed)
    expect(new Set(cached).size).toBeGreaterThan(2) // not stuck on one token
  })

  it("left padding with a batch gives the unpadded logits; different prompts give different distributions", async () => {
    const a = [65, 299, 280, 397, 12]
    const b = [900, 17, 397]
    const pad = a.length - b.length
    const batch = await step(
      [a, [...Array(pad).fill(0), ...b]],
      [a.map(() => 1), [...Array(pad).fill(0), ...b.map(() => 1)]],
      [range(0, a.length), [...Array(pad).fill(1), ...range(0, b.length)]], // transformers.js cumsum_masked_fill
      null
    )
    const alone = (await step([b], [b.map(() => 1)], [range(0, b.length)], null)).logits
    for (let t = 0; t < b.length; t++) expect(maxAbsDiff(row(batch.logits, 1, pad + t), row(alone, 0, t))).toBeLessThan(1e-4)
    const pa = softmax(row(batch.logits, 0, a.length - 1))
    const pb = softmax(row(alone, 0, b.length - 1))
    const tv = pa.reduce((s, p, i) => s + Math.abs(p - pb[i]), 0) / 2
    expect(tv).toBeGreaterThan(0.5)
  })
})
