/**
 * Builds the tiny model folders (Hugging Face layout: config.json, tokenizer.json,
 * tokenizer_config.json, onnx/model.onnx) deterministically and idempotently.
 */
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { END_OF_TEXT, gpt2TokenizerConfig, gpt2TokenizerJson, trainByteLevelBpe } from "./ByteLevelBpe.js"
import { type Corpus, loadCorpus, repoRoot } from "./Corpus.js"
import { bertClassifierWeights, bertHfConfig, bertOnnx, bertWeights, tinyBertConfig } from "./TinyBert.js"
import { gpt2GenerationConfig, gpt2HfConfig, gpt2Onnx, gpt2Weights, tinyGpt2Config } from "./TinyGpt2.js"
import { bertTokenizerConfig, bertTokenizerJson, buildWordPieceVocab } from "./WordPieceTokenizer.js"

export const TINY_MODEL_NAMES = ["tiny-bert", "tiny-bert-cross", "tiny-gpt2"] as const
export type TinyModelName = (typeof TINY_MODEL_NAMES)[number]

export const defaultOutDir = (): string => resolve(repoRoot, "models/tiny")

export interface TinyModelsOptions {
  /** Shared data folder holding stsbenchmark/ and snli/ (default: `defaultDataDir()`). */
  readonly dataDir?: string
  /** Base seed; BERT backbone uses seed, the cross-encoder head seed+1, GPT-2 seed+2. */
  readonly seed?: number
  /** Rebuild even when the stamp matches. */
  readonly force?: boolean
}

export interface BuiltModel {
  readonly name: TinyModelName
  readonly dir: string
  /** True when an up-to-date folder (matching stamp) was kept. */
  readonly skipped: boolean
}

export const BERT_VOCAB_SIZE = 2048
export const GPT2_VOCAB_SIZE = 1280
const STAMP_FILE = ".tiny-models-stamp"

/** Every file the model folders hold, relative to the folder. */
export const modelFiles = (name: TinyModelName): ReadonlyArray<string> => [
  "config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  ...(name === "tiny-gpt2" ? ["generation_config.json"] : []),
  "onnx/model.onnx"
]

const hashDir = (hash: ReturnType<typeof createHash>, dir: string): void => {
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry)
    if (statSync(p).isDirectory()) hashDir(hash, p)
    else if (/\.(ts|js)$/.test(entry) && !entry.endsWith(".d.ts")) hash.update(entry).update(readFileSync(p))
  }
}

/** Inputs that determine the output bytes: corpus, seed, this builder's code and the ONNX writer's. */
const stampFor = (corpus: Corpus, seed: number): string => {
  const hash = createHash("sha256").update(`seed=${seed};corpus=${corpus.hash};`)
  hashDir(hash, dirname(fileURLToPath(import.meta.url)))
  hashDir(hash, dirname(fileURLToPath(import.meta.resolve("@embedflow/onnx"))))
  return hash.digest("hex")
}

const json = (x: unknown): string => `${JSON.stringify(x, null, 2)}\n`

const buildContents = (name: TinyModelName, corpus: Corpus, seed: number): Map<string, string | Uint8Array> => {
  const files = new Map<string, string | Uint8Array>()
  if (name === "tiny-gpt2") {
    const bpe = trainByteLevelBpe(corpus.sentences, GPT2_VOCAB_SIZE)
    const config = tinyGpt2Config(bpe.vocab.length, bpe.vocab.indexOf(END_OF_TEXT))
    files.set("config.json", json(gpt2HfConfig(config)))
    files.set("generation_config.json", json(gpt2GenerationConfig(config)))
    files.set("tokenizer.json", json(gpt2TokenizerJson(bpe)))
    files.set("tokenizer_config.json", json(gpt2TokenizerConfig(config.nPositions)))
    files.set("special_tokens_map.json", json({ bos_token: END_OF_TEXT, eos_token: END_OF_TEXT, unk_token: END_OF_TEXT }))
    files.set("onnx/model.onnx", gpt2Onnx(config, gpt2Weights(config, seed + 2)))
  } else {
    const vocab = buildWordPieceVocab(corpus.sentences, BERT_VOCAB_SIZE)
    const config = tinyBertConfig(vocab.length)
    const cross = name === "tiny-bert-cross"
    files.set("config.json", json(bertHfConfig(config, cross)))
    files.set("tokenizer.json", json(bertTokenizerJson(vocab)))
    files.set("tokenizer_config.json", json(bertTokenizerConfig(config.maxPositions)))
    files.set(
      "special_tokens_map.json",
      json({ cls_token: "[CLS]", sep_token: "[SEP]", pad_token: "[PAD]", unk_token: "[UNK]", mask_token: "[MASK]" })
    )
    const backbone = bertWeights(config, seed)
    files.set("onnx/model.onnx", bertOnnx(config, backbone, cross ? bertClassifierWeights(config, seed + 1) : undefined))
  }
  return files
}

const upToDate = (dir: string, name: TinyModelName, stamp: string): boolean =>
  existsSync(join(dir, STAMP_FILE)) &&
  readFileSync(join(dir, STAMP_FILE), "utf8") === stamp &&
  modelFiles(name).every((f) => existsSync(join(dir, f)))

/**
 * Writes <outDir>/tiny-bert, tiny-bert-cross and tiny-gpt2. Folders whose stamp matches the
 * current inputs are kept; others are written to a temporary folder and swapped in.
 */
export const buildTinyModels = (outDir: string = defaultOutDir(), options: TinyModelsOptions = {}): Array<BuiltModel> => {
  const seed = options.seed ?? 42
  const corpus = loadCorpus(options.dataDir)
  const stamp = stampFor(corpus, seed)
  mkdirSync(outDir, { recursive: true })
  return TINY_MODEL_NAMES.map((name) => {
    const dir = join(outDir, name)
    if (!options.force && upToDate(dir, name, stamp)) return { name, dir, skipped: true }
    const tmp = join(outDir, `.${name}.tmp-${process.pid}-${Date.now()}`)
    for (const [file, contents] of buildContents(name, corpus, seed)) {
      mkdirSync(dirname(join(tmp, file)), { recursive: true })
      writeFileSync(join(tmp, file), contents)
    }
    writeFileSync(join(tmp, STAMP_FILE), stamp)
    rmSync(dir, { recursive: true, force: true })
    try {
      renameSync(tmp, dir)
    } catch (e) {
      // A concurrent build may have swapped in the same folder first; identical stamps mean identical bytes.
      rmSync(tmp, { recursive: true, force: true })
      if (!upToDate(dir, name, stamp)) throw e
    }
    return { name, dir, skipped: false }
  })
}
