/**
 * Full-size random models for speed and memory benchmarks (weights random: no quality claims):
 * - minilm-l6-random:  BertModel shaped like all-MiniLM-L6-v2 (6 layers, 384 hidden, 12 heads,
 *                      1536 FFN, 30522 vocab, 512 positions; ~90 MB of float32 weights)
 * - gpt2-small-random: GPT2LMHeadModel shaped like gpt2 / opt-125m (12 layers, 768 hidden, 12 heads,
 *                      3072 FFN, 50257 vocab, 1024 positions, untied head; ~650 MB)
 * Same graphs and file layout as tiny-bert / tiny-gpt2 (config.json, tokenizer.json,
 * onnx/model.onnx), deterministic in the seed. Too big for set-up: built on demand by the benches
 * and tests into <repo>/models/bench (kept across runs; a stamp of the seed and this package's
 * sources decides whether a folder is up to date).
 */
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { END_OF_TEXT, gpt2TokenizerConfig, gpt2TokenizerJson, trainByteLevelBpe } from "./ByteLevelBpe.js"
import { loadCorpus, repoRoot } from "./Corpus.js"
import { type BertConfig, bertHfConfig, bertOnnx, bertWeights } from "./TinyBert.js"
import { type Gpt2Config, gpt2GenerationConfig, gpt2HfConfig, gpt2Onnx, gpt2Weights } from "./TinyGpt2.js"
import { bertTokenizerConfig, bertTokenizerJson, buildWordPieceVocab } from "./WordPieceTokenizer.js"

export const BENCH_MODEL_NAMES = ["minilm-l6-random", "gpt2-small-random"] as const
export type BenchModelName = (typeof BENCH_MODEL_NAMES)[number]

export const minilmL6Config: BertConfig = {
  vocabSize: 30522,
  hiddenSize: 384,
  numLayers: 6,
  numHeads: 12,
  intermediateSize: 1536,
  maxPositions: 512,
  typeVocabSize: 2,
  layerNormEps: 1e-12
}

export const gpt2SmallConfig: Gpt2Config = {
  vocabSize: 50257,
  nEmbd: 768,
  nLayer: 12,
  nHead: 12,
  nInner: 3072,
  nPositions: 1024,
  layerNormEps: 1e-5,
  bosTokenId: 50256,
  eosTokenId: 50256
}

export const defaultBenchDir = (): string => resolve(repoRoot, "models/bench")

const STAMP_FILE = ".bench-models-stamp"

const stampFor = (name: BenchModelName, seed: number): string => {
  const hash = createHash("sha256").update(`${name};seed=${seed};`)
  const src = dirname(fileURLToPath(import.meta.url))
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir).sort()) {
      const p = join(dir, e)
      if (statSync(p).isDirectory()) walk(p)
      else if (/\.(ts|js)$/.test(e) && !e.endsWith(".d.ts")) hash.update(e).update(readFileSync(p))
    }
  }
  walk(src)
  return hash.digest("hex")
}

/** Pads a token list to `size` entries with distinct unused tokens inserted before `keepLast` (if given). */
const padVocab = (tokens: ReadonlyArray<string>, size: number, unused: (i: number) => string, keepLast?: string): Array<string> => {
  const body = tokens.filter((t) => t !== keepLast)
  const out = [...body]
  for (let i = 0; out.length < size - (keepLast ? 1 : 0); i++) out.push(unused(i))
  if (keepLast) out.push(keepLast)
  return out
}

const json = (x: unknown): string => `${JSON.stringify(x, null, 2)}\n`

const contents = (name: BenchModelName, seed: number, dataDir: string | undefined): Map<string, string | Uint8Array> => {
  const files = new Map<string, string | Uint8Array>()
  const corpus = loadCorpus(dataDir)
  if (name === "minilm-l6-random") {
    const c = minilmL6Config
    const vocab = padVocab(buildWordPieceVocab(corpus.sentences, 4096), c.vocabSize, (i) => `[unused${i}]`)
    files.set("config.json", json({ ...bertHfConfig(c, false), architectures: ["BertModel"] }))
    files.set("tokenizer.json", json(bertTokenizerJson(vocab)))
    files.set("tokenizer_config.json", json(bertTokenizerConfig(c.maxPositions)))
    files.set("special_tokens_map.json", json({ cls_token: "[CLS]", sep_token: "[SEP]", pad_token: "[PAD]", unk_token: "[UNK]", mask_token: "[MASK]" }))
    files.set("onnx/model.onnx", bertOnnx(c, bertWeights(c, seed)))
  } else {
    const c = gpt2SmallConfig
    const bpe = trainByteLevelBpe(corpus.sentences, 1280)
    const vocab = padVocab(bpe.vocab, c.vocabSize, (i) => `<|unused${i}|>`, END_OF_TEXT)
    files.set("config.json", json(gpt2HfConfig(c)))
    files.set("generation_config.json", json(gpt2GenerationConfig(c)))
    files.set("tokenizer.json", json(gpt2TokenizerJson({ vocab, merges: bpe.merges })))
    files.set("tokenizer_config.json", json(gpt2TokenizerConfig(c.nPositions)))
    files.set("special_tokens_map.json", json({ bos_token: END_OF_TEXT, eos_token: END_OF_TEXT, unk_token: END_OF_TEXT }))
    files.set("onnx/model.onnx", gpt2Onnx(c, gpt2Weights(c, seed)))
  }
  return files
}

export interface BenchModelOptions {
  readonly outDir?: string
  readonly seed?: number
  readonly force?: boolean
  readonly dataDir?: string
}

/** Builds (or finds up to date) one benchmark model folder; returns its path and whether it was kept. */
export const buildBenchModel = (name: BenchModelName, options: BenchModelOptions = {}): { readonly dir: string; readonly skipped: boolean } => {
  if (!BENCH_MODEL_NAMES.includes(name)) throw new RangeError(`buildBenchModel: unknown model "${String(name)}" (${BENCH_MODEL_NAMES.join(", ")})`)
  const outDir = options.outDir ?? defaultBenchDir()
  const seed = options.seed ?? 42
  const stamp = stampFor(name, seed)
  const dir = join(outDir, name)
  const upToDate = () =>
    existsSync(join(dir, STAMP_FILE)) && readFileSync(join(dir, STAMP_FILE), "utf8") === stamp && existsSync(join(dir, "onnx", "model.onnx"))
  if (!options.force && upToDate()) return { dir, skipped: true }
  const tmp = join(outDir, `.${name}.tmp-${process.pid}-${Date.now()}`)
  for (const [file, data] of contents(name, seed, options.dataDir)) {
    mkdirSync(dirname(join(tmp, file)), { recursive: true })
    writeFileSync(join(tmp, file), data)
  }
  writeFileSync(join(tmp, STAMP_FILE), stamp)
  rmSync(dir, { recursive: true, force: true })
  try {
    renameSync(tmp, dir)
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true })
    if (!upToDate()) throw e
  }
  return { dir, skipped: false }
}
