import {
  AutoModelForCausalLM,
  AutoModelForSequenceClassification,
  AutoTokenizer,
  env,
  pipeline,
  type Tensor
} from "@huggingface/transformers"
import { join } from "node:path"
import * as ort from "onnxruntime-node"
import { beforeAll, describe, expect, it } from "vitest"
import { buildTemp, maxAbsDiff, softmax } from "./helpers.js"

let dir = ""
beforeAll(() => {
  dir = buildTemp()
  env.allowRemoteModels = false
  env.allowLocalModels = true
  env.localModelPath = `${dir}/`
})

const ids = (t: Tensor): number[][] => (t.tolist() as bigint[][]).map((r) => r.map(Number))

describe("transformers.js 4.3.1 loads the tiny models offline", () => {
  it("tiny-bert: feature-extraction gives [batch, seq, 32] and matches raw ORT", async () => {
    const extractor = await pipeline("feature-extraction", "tiny-bert", { dtype: "fp32" })
    const texts = ["A man is playing a guitar.", "Two dogs are running through the snow in a park."]
    const out = await extractor(texts)
    const tokenizer = await AutoTokenizer.from_pretrained("tiny-bert")
    const enc = tokenizer(texts, { padding: true })
    const seq = enc.input_ids.dims[1]
    expect(out.dims).toEqual([2, seq, 32])
    const session = await ort.InferenceSession.create(join(dir, "tiny-bert/onnx/model.onnx"))
    const feeds = Object.fromEntries(
      (["input_ids", "attention_mask", "token_type_ids"] as const).map((k) => {
        const t = enc[k] as Tensor
        return [k, new ort.Tensor("int64", t.data as BigInt64Array, t.dims)]
      })
    )
    const raw = await session.run(feeds)
    await session.release()
    expect(maxAbsDiff(out.data as Float32Array, raw.last_hidden_state.data as Float32Array)).toBeLessThan(1e-6)
    const pooled = await extractor(texts, { pooling: "mean", normalize: true })
    expect(pooled.dims).toEqual([2, 32])
    await extractor.dispose()
  })

  it("tiny-bert tokenizer: WordPiece, [CLS] $A [SEP] / pair template, round trip", async () => {
    const tokenizer = await AutoTokenizer.from_pretrained("tiny-bert")
    const text = "A man is playing a guitar."
    const enc = tokenizer(text)
    const row = ids(enc.input_ids)[0]
    expect(row[0]).toBe(tokenizer.convert_tokens_to_ids("[CLS]"))
    expect(row.at(-1)).toBe(tokenizer.sep_token_id)
    expect(row).not.toContain(tokenizer.unk_token_id)
    expect(tokenizer.decode(row, { skip_special_tokens: true })).toBe("a man is playing a guitar.")
    expect(tokenizer.tokenize("Zxqv")).toEqual(["z", "##x", "##q", "##v"]) // any ASCII word splits into pieces, no [UNK]
    expect(tokenizer.tokenize("unbelievably")).toContain("##ly")
    const pair = tokenizer("a man", { text_pair: "a guitar" })
    expect(ids(pair.token_type_ids as Tensor)[0]).toEqual([0, 0, 0, 0, 1, 1, 1])
    expect(tokenizer.decode(ids(pair.input_ids)[0])).toBe("[CLS] a man [SEP] a guitar [SEP]")
  })

  it("tiny-bert-cross: one logit per (query, passage) pair", async () => {
    const tokenizer = await AutoTokenizer.from_pretrained("tiny-bert-cross")
    const model = await AutoModelForSequenceClassification.from_pretrained("tiny-bert-cross", { dtype: "fp32" })
    const queries = ["a man plays music", "a man plays music", "children in a park"]
    const passages = ["a man is playing a guitar", "the stock market fell", "kids play outside"]
    const { logits } = await model(tokenizer(queries, { text_pair: passages, padding: true }))
    expect(logits.dims).toEqual([3, 1])
    const values = Array.from(logits.data as Float32Array)
    expect(values.every(Number.isFinite)).toBe(true)
    expect(new Set(values.map((v) => v.toFixed(5))).size).toBe(3)
    await model.dispose()
  })

  it("tiny-gpt2 tokenizer: byte-level BPE round trip on arbitrary text", async () => {
    const tokenizer = await AutoTokenizer.from_pretrained("tiny-gpt2")
    for (const text of ["A man is playing a guitar.", "Café naïve — 東京 🙂\n\ttabs  and  spaces", "<|endoftext|>x"]) {
      const row = ids(tokenizer(text).input_ids)[0]
      expect(tokenizer.decode(row)).toBe(text)
    }
    expect(ids(tokenizer("playing").input_ids)[0].length).toBeLessThan("playing".length) // merges apply
    expect(ids(tokenizer("<|endoftext|>").input_ids)[0]).toEqual([tokenizer.eos_token_id])
  })

  it("tiny-gpt2: generate() with the KV cache equals greedy decoding over full recomputes", async () => {
    const tokenizer = await AutoTokenizer.from_pretrained("tiny-gpt2")
    const model = await AutoModelForCausalLM.from_pretrained("tiny-gpt2", { dtype: "fp32" })
    const inputs = tokenizer("A man is playing")
    const prompt = ids(inputs.input_ids)[0]
    const generated = ids((await model.generate({ ...inputs, max_new_tokens: 8, do_sample: false })) as Tensor)[0]
    expect(generated.slice(0, prompt.length)).toEqual(prompt)
    expect(generated.length).toBeGreaterThan(prompt.length)

    const session = await ort.InferenceSession.create(join(dir, "tiny-gpt2/onnx/model.onnx"))
    const seq = [...prompt]
    const i64 = (r: number[]) => new ort.Tensor("int64", BigInt64Array.from(r, BigInt), [1, r.length])
    const { n_head, n_embd, vocab_size } = model.config as unknown as { n_head: number; n_embd: number; vocab_size: number }
    const empty = new ort.Tensor("float32", new Float32Array(0), [1, n_head, 0, n_embd / n_head])
    while (seq.length < generated.length) {
      const feeds: Record<string, ort.Tensor> = { input_ids: i64(seq), attention_mask: i64(seq.map(() => 1)), position_ids: i64(seq.map((_, i) => i)) }
      for (const name of session.inputNames) if (name.startsWith("past_key_values")) feeds[name] = empty
      const logits = (await session.run(feeds)).logits.data as Float32Array
      const last = logits.subarray(logits.length - vocab_size)
      let best = 0
      for (let i = 1; i < last.length; i++) if (last[i] > last[best]) best = i
      seq.push(best)
    }
    await session.release()
    expect(generated).toEqual(seq)
    await model.dispose()
  })

  it("tiny-gpt2: two prompts give different next-token distributions", async () => {
    const tokenizer = await AutoTokenizer.from_pretrained("tiny-gpt2")
    const model = await AutoModelForCausalLM.from_pretrained("tiny-gpt2", { dtype: "fp32" })
    const next = async (text: string) => {
      const { logits } = await model(tokenizer(text))
      const [, S, V] = logits.dims
      return softmax((logits.data as Float32Array).subarray((S - 1) * V, S * V))
    }
    const p = await next("A woman is slicing an onion.")
    const q = await next("Two men are playing chess in the park.")
    const tv = p.reduce((s, v, i) => s + Math.abs(v - q[i]), 0) / 2
    expect(tv).toBeGreaterThan(0.5)
    expect(Math.max(...p)).toBeGreaterThan(0.15)
    await model.dispose()
  })
})
