import { AutoModel, AutoTokenizer } from "@huggingface/transformers"
import { GraphBuilder, inspectModel } from "@embedflow/onnx"
import { type Head, l2Normalize, Linear, LowRankResidualAdapter, matrix, Mlp, TokenDelta } from "@embedflow/tensor"
import { Effect, Exit } from "effect"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import * as ort from "onnxruntime-node"
import { describe, expect, it } from "vitest"
import { encoderConfig, exportEncoder, makeEncoder, makeModelHub, readTokenBags } from "../src/index.js"
import { maxAbsDiff, run, tiny } from "./helpers.js"

const texts = [
  "A man is playing a guitar.",
  "Two dogs are running through the snow in a park.",
  "Kids.",
  "The stock market fell sharply today after the announcement of new tariffs on imported goods.",
  "a cat sits on the mat"
]

/** Deterministic non-trivial weights, so a head visibly changes the embedding. */
const scramble = (head: Head): Head => {
  for (const p of head.params()) for (let k = 0; k < p.value.length; k++) p.value[k] = 0.3 * Math.sin(1.7 * k + p.value.length)
  return head
}

/** The in-process path: backbone pooled by the Encoder (unnormalised), head.predict in TS, then L2. */
const reference = (backbone: string, pooling: "cls" | "mean", normalize: boolean, head: Head | undefined, onnxFile?: string) =>
  run(
    Effect.gen(function* () {
      const enc = yield* makeEncoder(encoderConfig({ model: backbone, pooling, normalize: false, ...(onnxFile ? { onnxFile } : {}) }))
      const pooled = matrix(texts.length, enc.dim, yield* enc.embed(texts))
      const y = head ? head.predict(pooled) : pooled
      return normalize ? l2Normalize(y).y.data : y.data
    })
  )

/** Raw onnxruntime over the exported file: transformers.js batch tokenization (padded), read sentence_embedding. */
const viaOrt = async (dir: string) => {
  const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true })
  const enc = tokenizer(texts, { padding: true, truncation: true })
  const session = await ort.InferenceSession.create(join(dir, "onnx/model.onnx"))
  try {
    const feeds: Record<string, ort.Tensor> = {}
    for (const name of session.inputNames) {
      const t = (enc as unknown as Record<string, { data: BigInt64Array; dims: Array<number> }>)[name]!
      feeds[name] = new ort.Tensor("int64", t.data, t.dims)
    }
    const out = await session.run(feeds)
    return out.sentence_embedding!.data as Float32Array
  } finally {
    await session.release()
  }
}

/** transformers.js AutoModel, offline, as an app would load the folder. */
const viaTransformers = async (dir: string) => {
  const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true })
  const model = await AutoModel.from_pretrained(dir, { local_files_only: true, dtype: "fp32" })
  try {
    const out = await model(tokenizer(texts, { padding: true, truncation: true }))
    return out.sentence_embedding.data as Float32Array
  } finally {
    await model.dispose()
  }
}

const viaEncoderService = (dir: string) =>
  run(
    Effect.gen(function* () {
      // pooling/normalize here are what a generic embed stage passes; the folder's graph decides pooling.
      const hub = yield* makeModelHub()
      const enc = yield* hub.encoder({ model: dir, pooling: "mean", normalize: false })
      return { data: yield* enc.embed(texts), dim: enc.dim }
    })
  )

const checkAllPaths = async (dir: string, expected: Float32Array, dim: number) => {
  const service = await viaEncoderService(dir)
  expect(service.dim).toBe(dim)
  expect(maxAbsDiff(service.data, expected)).toBeLessThan(1e-4)
  expect(maxAbsDiff(await viaOrt(dir), expected)).toBeLessThan(1e-4)
  expect(maxAbsDiff(await viaTransformers(dir), expected)).toBeLessThan(1e-4)
}

/**
 * A static-encoder-like backbone (token-embedding table, Gather) at opset 11, so pooling is emitted
 * in its attribute-axes form; it reuses tiny-bert's tokenizer.
 */
const staticBackbone = (dir: string): string => {
  const bert = tiny("tiny-bert")
  const vocab = (JSON.parse(readFileSync(join(bert, "config.json"), "utf8")) as { vocab_size: number }).vocab_size
  const E = 24
  mkdirSync(join(dir, "onnx"), { recursive: true })
  for (const f of readdirSync(bert)) if (f.startsWith("tokenizer") || f === "special_tokens_map.json") copyFileSync(join(bert, f), join(dir, f))
  writeFileSync(join(dir, "config.json"), JSON.stringify({ model_type: "static-word-embedding", hidden_size: E, vocab_size: vocab, pad_token_id: 0 }))
  const table = Float32Array.from({ length: vocab * E }, (_, i) => Math.cos(0.37 * i) * (1 + (i % 7)))
  const g = new GraphBuilder("static")
  const ids = g.input("input_ids", "int64", ["batch", "sequence"])
  g.input("attention_mask", "int64", ["batch", "sequence"])
  g.output(g.op("Gather", [g.initializer("embeddings", table, [vocab, E]), ids]), { name: "last_hidden_state", shape: ["batch", "sequence", E] })
  writeFileSync(join(dir, "onnx/model.onnx"), g.toModel({ opset: 11 }))
  return dir
}

/**
 * A bag-of-vectors backbone (opset 13) that declares the token_scale contract: hidden = scale · E[id]
 * with a per-token scale that varies (1 + id mod 3), so bag coefficients are not all equal.
 */
const bagOfVectorsBackbone = (dir: string): { dir: string; table: Float32Array; E: number } => {
  const bert = tiny("tiny-bert")
  const vocab = (JSON.parse(readFileSync(join(bert, "config.json"), "utf8")) as { vocab_size: number }).vocab_size
  const E = 16
  mkdirSync(join(dir, "onnx"), { recursive: true })
  for (const f of readdirSync(bert)) if (f.startsWith("tokenizer") || f === "special_tokens_map.json") copyFileSync(join(bert, f), join(dir, f))
  writeFileSync(join(dir, "config.json"), JSON.stringify({ model_type: "static-word-embedding", hidden_size: E, vocab_size: vocab, pad_token_id: 0 }))
  const table = Float32Array.from({ length: vocab * E }, (_, i) => Math.sin(0.41 * i) * (1 + (i % 5)))
  const g = new GraphBuilder("bag-of-vectors")
  const ids = g.input("input_ids", "int64", ["batch", "sequence"])
  const mask = g.op("Cast", [g.input("attention_mask", "int64", ["batch", "sequence"])], { to: 1 })
  const three = g.constant([3], { dataType: "int64", dims: [] })
  const scale = g.op("Mul", [mask, g.op("Add", [g.op("Cast", [g.op("Mod", [ids, three])], { to: 1 }), g.constant(new Float32Array([1]), { dims: [] })])])
  const hidden = g.op("Mul", [g.op("Gather", [g.initializer("embeddings", table, [vocab, E]), ids]), g.op("Unsqueeze", [scale, g.constant([2], { dataType: "int64" })])])
  g.output(hidden, { name: "last_hidden_state", shape: ["batch", "sequence", E] })
  g.output(scale, { name: "token_scale", shape: ["batch", "sequence"] })
  writeFileSync(join(dir, "onnx/model.onnx"), g.toModel({ opset: 13 }))
  return { dir, table, E }
}

const tmp = () => mkdtempSync(join(tmpdir(), "embedflow-export-"))

describe("exportEncoder", () => {
  const cases: Array<{ name: string; pooling: "cls" | "mean"; normalize: boolean; head?: (dim: number) => Head }> = [
    { name: "mean, normalised, no head", pooling: "mean", normalize: true },
    { name: "cls, not normalised, no head", pooling: "cls", normalize: false },
    { name: "mean, normalised, linear head 32 -> 16", pooling: "mean", normalize: true, head: (d) => scramble(Linear.make({ inputDim: d, outputDim: 16 })) },
    { name: "cls, normalised, low-rank adapter", pooling: "cls", normalize: true, head: (d) => scramble(LowRankResidualAdapter.make({ dim: d, rank: 4, seed: 1 })) },
    { name: "mean, not normalised, GELU MLP", pooling: "mean", normalize: false, head: (d) => scramble(Mlp.make({ inputDim: d, hiddenDim: 20, outputDim: 12 })) }
  ]
  for (const c of cases) {
    it(`tiny-bert, ${c.name}: Encoder service, onnxruntime and transformers.js equal the in-process path`, async () => {
      const backbone = tiny("tiny-bert")
      const head = c.head?.(32)
      const out = join(tmp(), "model")
      const exported = await Effect.runPromise(exportEncoder({ backbone, pooling: c.pooling, normalize: c.normalize, head, outDir: out }))
      const expected = await reference(backbone, c.pooling, c.normalize, head)
      expect(exported.dim).toBe(head?.outputDim ?? 32)
      await checkAllPaths(out, expected, exported.dim)
      // The backbone's own output is still there and unchanged.
      const info = inspectModel(readFileSync(join(out, "onnx/model.onnx")))
      expect(info.outputs.map((o) => o.name)).toEqual(["last_hidden_state", "sentence_embedding"])
      const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"))
      expect(config.model_type).toBe("bert")
      expect(config.embedflow).toEqual({ output: "sentence_embedding", pooling: c.pooling, normalize: c.normalize, head: head?.kind ?? null, dim: exported.dim })
      for (const f of ["tokenizer.json", "tokenizer_config.json"]) expect(existsSync(join(out, f))).toBe(true)
      if (head) {
        // The head really is in the graph: the base embedding differs.
        const base = await reference(backbone, c.pooling, c.normalize, undefined)
        expect(base.length === expected.length ? maxAbsDiff(base, expected) : 1).toBeGreaterThan(1e-2)
      }
    }, 30_000)
  }

  it("static-encoder-like backbone at opset 11 (mean and cls, with a head): all paths agree", async () => {
    const backbone = staticBackbone(tmp())
    for (const [pooling, normalize, head] of [
      ["mean", true, scramble(Linear.make({ inputDim: 24, outputDim: 24 }))],
      ["cls", false, undefined]
    ] as const) {
      const out = join(tmp(), "model")
      await Effect.runPromise(exportEncoder({ backbone, pooling, normalize, head, outDir: out }))
      await checkAllPaths(out, await reference(backbone, pooling, normalize, head), 24)
    }
  }, 30_000)

  it("last-token pooling (either padding side) on tiny-gpt2 matches the Encoder's last-token", async () => {
    const backbone = tiny("tiny-gpt2")
    const out = join(tmp(), "model")
    await Effect.runPromise(exportEncoder({ backbone, pooling: "last-token", normalize: true, outDir: out }))
    const [expected, got] = await run(
      Effect.gen(function* () {
        const base = yield* makeEncoder(encoderConfig({ model: backbone, pooling: "last-token", normalize: true }))
        const exported = yield* makeEncoder(encoderConfig({ model: out }))
        return [yield* base.embed(texts), yield* exported.embed(texts)] as const
      })
    )
    expect(maxAbsDiff(got, expected)).toBeLessThan(1e-4)
  }, 30_000)

  it("replaces an existing folder atomically and leaves no temp folders", async () => {
    const parent = tmp()
    const out = join(parent, "model")
    const backbone = tiny("tiny-bert")
    await Effect.runPromise(exportEncoder({ backbone, pooling: "mean", normalize: true, outDir: out }))
    await Effect.runPromise(exportEncoder({ backbone, pooling: "cls", normalize: false, outDir: out, info: { run: "r2" }, files: { "extra/head.json": "{}" } }))
    expect(readdirSync(parent)).toEqual(["model"])
    expect(readFileSync(join(out, "extra/head.json"), "utf8")).toBe("{}")
    const escape = await Effect.runPromiseExit(exportEncoder({ backbone, pooling: "cls", normalize: false, outDir: out, files: { "../x": "" } }))
    expect(Exit.isFailure(escape) && String(escape.cause)).toMatch(/"..\/x" would land outside the folder/)
    expect(readdirSync(parent)).toEqual(["model"])
    const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"))
    expect(config.embedflow).toMatchObject({ pooling: "cls", normalize: false, run: "r2" })
  })

  it("names what is wrong: missing backbone files, head size mismatch, exporting an export", async () => {
    const backbone = tiny("tiny-bert")
    const missing = await Effect.runPromiseExit(exportEncoder({ backbone: tmp(), pooling: "mean", normalize: true, outDir: join(tmp(), "m") }))
    expect(Exit.isFailure(missing) && String(missing.cause)).toMatch(/missing config.json/)
    const head = Linear.make({ inputDim: 8, outputDim: 8 })
    const mismatch = await Effect.runPromiseExit(exportEncoder({ backbone, pooling: "mean", normalize: true, head, outDir: join(tmp(), "m") }))
    expect(Exit.isFailure(mismatch) && String(mismatch.cause)).toMatch(/head takes 8-dim inputs but the backbone's hidden state has 32 dims/)
    const out = join(tmp(), "model")
    await Effect.runPromise(exportEncoder({ backbone, pooling: "mean", normalize: true, outDir: out }))
    const twice = await Effect.runPromiseExit(exportEncoder({ backbone: out, pooling: "mean", normalize: true, outDir: join(tmp(), "m") }))
    expect(Exit.isFailure(twice) && String(twice.cause)).toMatch(/already has a sentence_embedding output/)
  })

  it("token bags: Σ c_t·E[id_t] is the Encoder's mean pooling; a token delta exports and matches head(x + Σ c_t·Δ)", async () => {
    const { dir, table, E } = bagOfVectorsBackbone(tmp())
    const bags = await run(readTokenBags({ model: dir }, texts))
    const pooled = await reference(dir, "mean", false, undefined)
    const fromBags = new Float32Array(texts.length * E)
    for (let i = 0; i < texts.length; i++) {
      for (let e = bags.offsets[i]!; e < bags.offsets[i + 1]!; e++) {
        for (let k = 0; k < E; k++) fromBags[i * E + k]! += bags.coefficients[e]! * table[bags.tokens[e]! * E + k]!
      }
    }
    expect(maxAbsDiff(fromBags, pooled)).toBeLessThan(1e-5)
    // Tune every other token seen, plus one never seen (it must change nothing).
    const seen = [...new Set(bags.tokens)]
    const delta = TokenDelta.make({ tokens: [...seen.filter((_, i) => i % 2 === 0), 5], dim: E })
    delta.delta.value.forEach((_, k) => (delta.delta.value[k] = 0.5 * Math.cos(0.9 * k)))
    const head = scramble(Linear.make({ inputDim: E, outputDim: 6 }))
    const out = join(tmp(), "model")
    const exported = await Effect.runPromise(exportEncoder({ backbone: dir, pooling: "mean", normalize: true, head, tokenDelta: delta, outDir: out }))
    expect(exported.dim).toBe(6)
    const expected = l2Normalize(head.predict(delta.predict(matrix(texts.length, E, pooled), bags))).y.data
    await checkAllPaths(out, expected, 6)
    expect(maxAbsDiff(expected, l2Normalize(head.predict(matrix(texts.length, E, pooled))).y.data)).toBeGreaterThan(1e-3)
  })

  it("token bags and token deltas need the token_scale contract, and ids within the vocabulary", async () => {
    const plain = staticBackbone(tmp())
    const bags = await Effect.runPromiseExit(Effect.scoped(readTokenBags({ model: plain }, texts)))
    expect(Exit.isFailure(bags) && String(bags.cause)).toMatch(/token_scale output/)
    const delta = TokenDelta.make({ tokens: [3], dim: 24 })
    const noScale = await Effect.runPromiseExit(exportEncoder({ backbone: plain, pooling: "mean", normalize: true, tokenDelta: delta, outDir: join(tmp(), "m") }))
    expect(Exit.isFailure(noScale) && String(noScale.cause)).toMatch(/bag-of-vectors backbone with a token_scale output/)
    const { dir } = bagOfVectorsBackbone(tmp())
    const beyond = TokenDelta.make({ tokens: [10_000_000], dim: 16 })
    const out = await Effect.runPromiseExit(exportEncoder({ backbone: dir, pooling: "mean", normalize: true, tokenDelta: beyond, outDir: join(tmp(), "m") }))
    expect(Exit.isFailure(out) && String(out.cause)).toMatch(/beyond the backbone's vocabulary/)
  })

  const glove = resolve(import.meta.dirname, "../../../models/glove-6b-100d")
  it("GloVe 6B 100d (136 MB, SIF weights) + linear head exports and matches the in-process path", async () => {
    // Built by tools/setup.sh (the README's test command runs it first).
    if (!existsSync(join(glove, "onnx/model_sif.onnx"))) throw new Error(`${glove} is missing: run \`bash tools/setup.sh\``)
    const head = scramble(Linear.make({ inputDim: 100, outputDim: 100 }))
    const out = join(tmp(), "model")
    const started = performance.now()
    const exported = await Effect.runPromise(exportEncoder({ backbone: glove, onnxFile: "onnx/model_sif.onnx", pooling: "mean", normalize: true, head, outDir: out }))
    const seconds = (performance.now() - started) / 1000
    expect(exported.bytes).toBeGreaterThan(130e6)
    expect(readdirSync(join(out, "onnx"))).toEqual(["model.onnx"])
    const expected = await reference(glove, "mean", true, head, "onnx/model_sif.onnx")
    const service = await viaEncoderService(out)
    expect(maxAbsDiff(service.data, expected)).toBeLessThan(1e-4)
    expect(seconds).toBeLessThan(20)
  }, 60_000)
})
