import { AutoTokenizer } from "@huggingface/transformers"
import { Effect, Exit } from "effect"
import { cpSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as ort from "onnxruntime-node"
import { describe, expect, it } from "vitest"
import { encoderConfig, makeEncoder, ModelError, type Pooling, promptEolTemplate } from "../src/index.js"
import { maxAbsDiff, run, runLogged, tiny } from "./helpers.js"

const texts = [
  "A man is playing a guitar.",
  "Two dogs are running through the snow in a park.",
  "A woman slices an onion.",
  "Kids.",
  "The stock market fell sharply today after the announcement of new tariffs on imported goods.",
  "A cat sits on the mat."
]

/** Raw onnxruntime last_hidden_state for each text alone (no padding): the reference to pool by hand. */
const rawHidden = async (dir: string, items: ReadonlyArray<string>): Promise<Array<{ data: Float32Array; len: number; dim: number }>> => {
  const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true })
  const session = await ort.InferenceSession.create(join(dir, "onnx/model.onnx"))
  const out = []
  for (const text of items) {
    const ids = tokenizer.encode(text)
    const t = (v: Array<number>) => new ort.Tensor("int64", BigInt64Array.from(v, BigInt), [1, v.length])
    const r = await session.run({ input_ids: t(ids), attention_mask: t(ids.map(() => 1)), token_type_ids: t(ids.map(() => 0)) })
    const h = r.last_hidden_state
    out.push({ data: h.data as Float32Array, len: ids.length, dim: h.dims[2] })
  }
  await session.release()
  return out
}

const pool = (h: { data: Float32Array; len: number; dim: number }, pooling: Pooling, normalize: boolean): Float64Array => {
  const v = new Float64Array(h.dim)
  if (pooling === "mean") {
    for (let t = 0; t < h.len; t++) for (let d = 0; d < h.dim; d++) v[d] += h.data[t * h.dim + d] / h.len
  } else {
    const t = pooling === "cls" ? 0 : h.len - 1
    for (let d = 0; d < h.dim; d++) v[d] = h.data[t * h.dim + d]
  }
  if (normalize) {
    const n = Math.hypot(...v)
    for (let d = 0; d < h.dim; d++) v[d] /= n
  }
  return v
}

describe("Encoder on tiny-bert", () => {
  it("embeds a batch into [n x 32] and an empty list into a 0 x dim matrix", async () => {
    const [out, empty, dim] = await run(
      Effect.gen(function* () {
        const enc = yield* makeEncoder(encoderConfig({ model: tiny("tiny-bert") }))
        return [yield* enc.embed(texts), yield* enc.embed([]), enc.dim] as const
      })
    )
    expect(dim).toBe(32)
    expect(out).toBeInstanceOf(Float32Array)
    expect(out.length).toBe(texts.length * 32)
    expect(empty.length).toBe(0)
    for (let i = 0; i < texts.length; i++) expect(Math.hypot(...out.subarray(i * 32, i * 32 + 32))).toBeCloseTo(1, 5)
  })

  for (const pooling of ["cls", "mean", "last-token"] as const) {
    for (const normalize of [false, true]) {
      it(`${pooling} pooling (normalize=${normalize}) equals pooling last_hidden_state by hand`, async () => {
        const hidden = await rawHidden(tiny("tiny-bert"), texts)
        const out = await run(
          Effect.gen(function* () {
            const enc = yield* makeEncoder(encoderConfig({ model: tiny("tiny-bert"), pooling, normalize, maxTokensPerBatch: 40 }))
            return yield* enc.embed(texts)
          })
        )
        for (let i = 0; i < texts.length; i++) {
          expect(maxAbsDiff(out.subarray(i * 32, (i + 1) * 32), pool(hidden[i], pooling, normalize))).toBeLessThan(1e-5)
        }
      })
    }
  }

  it("gives the same vectors whatever the batch size and the order of the texts", async () => {
    const many = Array.from({ length: 40 }, (_, i) => `${texts[i % texts.length]} ${"again ".repeat(i % 7)}${i}`)
    const perm = many.map((_, i) => (i * 17) % many.length)
    const [a, b, c] = await run(
      Effect.gen(function* () {
        const one = yield* makeEncoder(encoderConfig({ model: tiny("tiny-bert"), maxTokensPerBatch: 1 }))
        const big = yield* makeEncoder(encoderConfig({ model: tiny("tiny-bert"), maxTokensPerBatch: 100_000 }))
        const mid = yield* makeEncoder(encoderConfig({ model: tiny("tiny-bert"), maxTokensPerBatch: 64 }))
        return [yield* one.embed(many), yield* big.embed(many), yield* mid.embed(perm.map((i) => many[i]))] as const
      })
    )
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5)
    const unpermuted = new Float32Array(a.length)
    perm.forEach((src, k) => unpermuted.set(c.subarray(k * 32, k * 32 + 32), src * 32))
    expect(maxAbsDiff(a, unpermuted)).toBeLessThan(1e-5)
  })

  it("truncates to maxLength with one warning for the encoder, not one per text", async () => {
    const long = Array.from({ length: 5 }, (_, i) => `${"a man is playing a guitar ".repeat(10)}${i}`)
    const { value, warnings } = await runLogged(
      Effect.gen(function* () {
        const enc = yield* makeEncoder(encoderConfig({ model: tiny("tiny-bert"), maxLength: 8, pooling: "cls", normalize: false }))
        const first = yield* enc.embed(long)
        yield* enc.embed(long)
        const short = yield* enc.embed(["a man is playing"])
        return { first, short }
      })
    )
    expect(warnings.length).toBe(1)
    expect(warnings[0]).toContain("5 of 5 texts exceed maxLength 8")
    // Truncation keeps [CLS] ... [SEP]: equal to encoding the first 6 word pieces by hand.
    const tokenizer = await AutoTokenizer.from_pretrained(tiny("tiny-bert"), { local_files_only: true })
    const ids = tokenizer.encode(long[0])
    const cut = [...ids.slice(0, 7), ids.at(-1)!]
    const session = await ort.InferenceSession.create(join(tiny("tiny-bert"), "onnx/model.onnx"))
    const t = (v: Array<number>) => new ort.Tensor("int64", BigInt64Array.from(v, BigInt), [1, v.length])
    const r = await session.run({ input_ids: t(cut), attention_mask: t(cut.map(() => 1)), token_type_ids: t(cut.map(() => 0)) })
    await session.release()
    expect(maxAbsDiff(value.first.subarray(0, 32), (r.last_hidden_state.data as Float32Array).subarray(0, 32))).toBeLessThan(1e-5)
    expect(value.short.length).toBe(32)
  })

  it("names the missing file of an incomplete model folder", async () => {
    for (const file of ["onnx/model.onnx", "tokenizer.json", "config.json"]) {
      const dir = mkdtempSync(join(tmpdir(), "embedflow-missing-"))
      try {
        cpSync(tiny("tiny-bert"), dir, { recursive: true })
        rmSync(join(dir, file))
        const exit = await Effect.runPromiseExit(Effect.scoped(makeEncoder(encoderConfig({ model: dir }))))
        expect(Exit.isFailure(exit)).toBe(true)
        const err = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
        const e = err && "error" in err ? (err.error as ModelError) : undefined
        expect(e).toBeInstanceOf(ModelError)
        expect(e?.file).toBe(file)
        expect(e?.message).toContain(`missing ${file}`)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  })

  it('device "cuda" falls back to CPU with one clear warning when the CUDA provider is unavailable', async () => {
    const { value, warnings } = await runLogged(
      Effect.gen(function* () {
        const gpu = yield* makeEncoder(encoderConfig({ model: tiny("tiny-bert"), device: "cuda" }))
        const cpu = yield* makeEncoder(encoderConfig({ model: tiny("tiny-bert") }))
        return [yield* gpu.embed(texts), yield* cpu.embed(texts)] as const
      })
    )
    // onnxruntime-node is installed without its CUDA files (.npmrc: onnxruntime-node-install=skip), so
    // "cuda" must fall back, with exactly one warning, and give the CPU's embeddings.
    expect(warnings).toEqual([expect.stringContaining("falling back to CPU")])
    expect(maxAbsDiff(value[0], value[1])).toBeLessThan(1e-4)
  })

  it("reports an unknown model name offline, pointing at EMBEDFLOW_ALLOW_REMOTE", async () => {
    const exit = await Effect.runPromiseExit(Effect.scoped(makeEncoder(encoderConfig({ model: "no-such-org/no-such-model" }), { allowRemote: false })))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(Exit.isFailure(exit) ? exit.cause.reasons[0] && (exit.cause.reasons[0] as { error?: ModelError }).error?.message : "")).toContain("EMBEDFLOW_ALLOW_REMOTE=1")
  })
})

describe("Encoder on tiny-gpt2 (a causal LM)", () => {
  it("prompt-eol pools the last token's hidden state: it maps through the LM head to the model's own next-token logits", async () => {
    const dir = tiny("tiny-gpt2")
    const sentences = ["A man is playing a guitar.", "Kids play outside in the snow with their two dogs."]
    const out = await run(
      Effect.gen(function* () {
        const enc = yield* makeEncoder(encoderConfig({ model: dir, pooling: "prompt-eol", normalize: false }))
        expect(enc.dim).toBe(32)
        return yield* enc.embed(sentences)
      })
    )
    // Reference: the real graph's logits at the last prompt token, and its LM head weight.
    const { gpt2PromptFeeds, gpt2Weights, tinyGpt2Config, GPT2_VOCAB_SIZE } = await import("@embedflow/tiny-models")
    const config = tinyGpt2Config(GPT2_VOCAB_SIZE, GPT2_VOCAB_SIZE - 1)
    const head = gpt2Weights(config, 42 + 2).get("lm_head.weight")! // seed + 2: what buildTinyModels uses for tiny-gpt2
    const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true })
    const session = await ort.InferenceSession.create(join(dir, "onnx/model.onnx"))
    for (let s = 0; s < sentences.length; s++) {
      const ids = tokenizer.encode(promptEolTemplate.replace("{text}", sentences[s]))
      const r = await session.run(gpt2PromptFeeds(ids, config, (type, data, dims) => new ort.Tensor(type, data, [...dims])))
      const V = GPT2_VOCAB_SIZE
      const expected = (r.logits.data as Float32Array).subarray((ids.length - 1) * V, ids.length * V)
      const h = out.subarray(s * 32, s * 32 + 32)
      const projected = new Float64Array(V)
      for (let o = 0; o < V; o++) for (let i = 0; i < 32; i++) projected[o] += h[i] * head.data[i * V + o]
      expect(maxAbsDiff(projected, expected)).toBeLessThan(1e-4)
    }
    await session.release()
  })

  it("prompt-eol truncates inside the template, keeping its ending", async () => {
    const long = "a man is playing a guitar while ".repeat(40)
    const { value, warnings } = await runLogged(
      Effect.gen(function* () {
        const short = yield* makeEncoder(encoderConfig({ model: tiny("tiny-gpt2"), pooling: "prompt-eol", maxLength: 24, normalize: false }))
        const full = yield* makeEncoder(encoderConfig({ model: tiny("tiny-gpt2"), pooling: "prompt-eol", maxLength: 256, normalize: false }))
        const cut = yield* short.embed([long])
        // Candidates: the text cut to its first k tokens, embedded without truncation.
        const tokenizer = yield* Effect.promise(() => AutoTokenizer.from_pretrained(tiny("tiny-gpt2"), { local_files_only: true }))
        const ids = tokenizer.encode(long)
        const prefixes = Array.from({ length: 24 }, (_, k) => tokenizer.decode(ids.slice(0, k + 1)))
        const candidates = yield* full.embed(prefixes)
        const lengths = prefixes.map((p) => tokenizer.encode(promptEolTemplate.replace("{text}", p)).length)
        return { cut, candidates, lengths }
      })
    )
    expect(warnings.length).toBe(1)
    const match = value.lengths.findIndex((_, k) => maxAbsDiff(value.cut, value.candidates.subarray(k * 32, k * 32 + 32)) < 1e-5)
    expect(match).toBeGreaterThan(0)
    // The longest text prefix whose templated prompt fits in 24 tokens.
    expect(value.lengths[match]).toBeLessThanOrEqual(24)
    expect(value.lengths[match + 1]).toBeGreaterThan(24)
  })

  it("makeEncoder runs the config's onnxFile, not the folder's default", async () => {
    const dir = mkdtempSync(join(tmpdir(), "embedflow-onnxfile-"))
    cpSync(tiny("tiny-bert"), dir, { recursive: true })
    cpSync(join(dir, "onnx/model.onnx"), join(dir, "onnx/other.onnx"))
    rmSync(join(dir, "onnx/model.onnx"))
    const [out, missing] = await run(
      Effect.gen(function* () {
        const enc = yield* makeEncoder(encoderConfig({ model: dir, onnxFile: "onnx/other.onnx" }))
        const base = yield* makeEncoder(encoderConfig({ model: tiny("tiny-bert") }))
        const missing = yield* Effect.exit(makeEncoder(encoderConfig({ model: dir })))
        return [maxAbsDiff(yield* enc.embed(texts), yield* base.embed(texts)), missing] as const
      })
    )
    expect(out).toBe(0)
    expect(Exit.isFailure(missing) && String(missing.cause)).toMatch(/missing onnx\/model.onnx/)
  })
})
