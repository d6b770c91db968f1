/**
 * Retrieval-augmented answering over a folder of documents: `ingest` chunks, embeds (an Encoder
 * from the run's ModelHub) and indexes them into a folder; `makeRag` loads that folder and answers
 * questions with the k best chunks in a numbered prompt, a causal LM (local ONNX via the hub, or an
 * OpenAI-compatible server), and the passages it was given, flagged where the answer cites them.
 */
import { existsSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { type CausalLMShape, type EncoderShape, makeOpenAiCausalLM, ModelHub } from "@embedflow/models"
import { Effect, type Scope } from "effect"
import { type Chunk, chunkDocument, type ChunkOptions, checkChunkOptions, defaultChunkOptions } from "./Chunker.js"
import { ChunkIndex, type EncoderSpec, type IndexKind } from "./ChunkIndex.js"
import { readCorpus, type Skipped } from "./Corpus.js"
import { buildPrompt, citedNumbers } from "./Prompt.js"
import { RagError } from "./RagError.js"

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..")

/** `models/glove-6b-100d` (the static GloVe encoder) when built, else `models/tiny/tiny-bert`. */
export const defaultEncoderModel = (): string => {
  const glove = resolve(repoRoot, "models/glove-6b-100d")
  return existsSync(resolve(glove, "config.json")) ? glove : resolve(repoRoot, "models/tiny/tiny-bert")
}

export const defaultLocalLM = (): string => resolve(repoRoot, "models/tiny/tiny-gpt2")

/** Where `cli.ts` keeps its index unless told otherwise. */
export const defaultIndexDir = (): string => resolve(repoRoot, ".embedflow/rag-index")

export interface IngestOptions {
  readonly folder: string
  readonly indexDir: string
  readonly encoder?: Partial<EncoderSpec> | undefined
  readonly chunking?: ChunkOptions | undefined
  readonly index?: IndexKind | undefined
  /** Chunks per encoder call (default 64). */
  readonly batchSize?: number | undefined
  readonly onProgress?: ((done: number, total: number) => void) | undefined
}

export interface IngestReport {
  readonly indexDir: string
  readonly files: number
  /** Candidate files left out (binary, empty, symlinks leaving the folder or looping, duplicates), with the reason. */
  readonly skipped: ReadonlyArray<Skipped>
  readonly chunks: number
  readonly dim: number
  readonly encoder: EncoderSpec
  readonly index: IndexKind
  readonly loadSeconds: number
  readonly embedSeconds: number
  readonly chunksPerSecond: number
}

const modelError = (e: { readonly message: string }) => new RagError({ reason: "Model", message: e.message, cause: e })

const openEncoder = (spec: EncoderSpec): Effect.Effect<EncoderShape, RagError, ModelHub> =>
  Effect.gen(function* () {
    const hub = yield* ModelHub
    return yield* hub.encoder({ model: spec.model, pooling: spec.pooling, normalize: true }).pipe(Effect.mapError(modelError))
  })

/** Chunks every document under `folder`, embeds the chunks and writes the index folder. */
export const ingest = (options: IngestOptions): Effect.Effect<IngestReport, RagError, ModelHub> =>
  Effect.gen(function* () {
    const chunking = yield* Effect.try({
      try: () => checkChunkOptions(options.chunking ?? defaultChunkOptions),
      catch: (e) => new RagError({ reason: "BadInput", message: (e as Error).message })
    })
    const { documents: docs, skipped } = yield* readCorpus(options.folder)
    const chunks: Array<Chunk> = docs.flatMap((d) => chunkDocument(d.file, d.text, chunking))
    const encoder: EncoderSpec = { model: options.encoder?.model ?? defaultEncoderModel(), pooling: options.encoder?.pooling ?? "mean" }
    const t0 = performance.now()
    const enc = yield* openEncoder(encoder)
    const t1 = performance.now()
    const batch = Math.max(1, options.batchSize ?? 64)
    const vectors = new Float32Array(chunks.length * enc.dim)
    for (let s = 0; s < chunks.length; s += batch) {
      const part = chunks.slice(s, s + batch)
      vectors.set(yield* enc.embed(part.map(embedText)).pipe(Effect.mapError(modelError)), s * enc.dim)
      options.onProgress?.(s + part.length, chunks.length)
    }
    const t2 = performance.now()
    const kind = options.index ?? "flat"
    yield* Effect.try({
      try: () => ChunkIndex.build({ encoder, chunking, index: kind, dim: enc.dim, files: docs.map((d) => d.file) }, chunks, vectors).save(options.indexDir),
      catch: (e) => (e instanceof RagError ? e : new RagError({ reason: "Index", message: String((e as Error).message), cause: e }))
    })
    const embedSeconds = (t2 - t1) / 1000
    return {
      indexDir: resolve(options.indexDir),
      files: docs.length,
      skipped,
      chunks: chunks.length,
      dim: enc.dim,
      encoder,
      index: kind,
      loadSeconds: (t1 - t0) / 1000,
      embedSeconds,
      chunksPerSecond: chunks.length / Math.max(embedSeconds, 1e-9)
    }
  })

/** What the encoder sees for a chunk: its heading (context for short chunks) and its text. */
const embedText = (c: Chunk): string => (c.heading !== undefined && !c.text.startsWith("#") ? `${c.heading}\n${c.text}` : c.text)

export type LmSpec =
  | { readonly kind: "local"; readonly model: string }
  /** An OpenAI-compatible server: base URL up to the API version (e.g. http://127.0.0.1:8000/v1) and the model name. */
  | { readonly kind: "openai"; readonly baseUrl: string; readonly model: string; readonly apiKey?: string | undefined; readonly chat?: boolean | undefined }

export interface RagOptions {
  readonly indexDir: string
  readonly lm?: LmSpec | undefined
  /** Passages retrieved per question (default 4). */
  readonly k?: number | undefined
  /** Passages scoring below this cosine are dropped (default 0.1); none left means "no hits". */
  readonly minScore?: number | undefined
  readonly maxNewTokens?: number | undefined
}

export interface Source {
  /** The passage's number in the prompt. */
  readonly n: number
  readonly chunk: Chunk
  readonly score: number
  /** True when the answer cites [n]. */
  readonly cited: boolean
}

export interface Answer {
  readonly question: string
  /** The LM's answer; empty when nothing was retrieved. */
  readonly answer: string
  /** Every passage the LM was given, in prompt order. */
  readonly sources: ReadonlyArray<Source>
  /** The passage numbers the answer cites. */
  readonly citations: ReadonlyArray<number>
  /** Set when no passage scored at least minScore (the LM is not called). */
  readonly noHits: boolean
  readonly prompt: string
  readonly retrieveMs: number
  readonly generateMs: number
}

export interface Rag {
  readonly meta: ChunkIndex["meta"]
  readonly lm: string
  readonly ask: (question: string, options?: { readonly k?: number | undefined }) => Effect.Effect<Answer, RagError>
}

/** Loads the index folder, its encoder and the LM; the models are released with the scope (local) or the hub. */
export const makeRag = (options: RagOptions): Effect.Effect<Rag, RagError, ModelHub | Scope.Scope> =>
  Effect.gen(function* () {
    const index = yield* Effect.try({
      try: () => ChunkIndex.load(options.indexDir),
      catch: (e) => (e instanceof RagError ? e : new RagError({ reason: "Index", message: String((e as Error).message), cause: e }))
    })
    const encoder = yield* openEncoder(index.meta.encoder)
    const spec: LmSpec = options.lm ?? { kind: "local", model: defaultLocalLM() }
    const lm: CausalLMShape =
      spec.kind === "local"
        ? yield* (yield* ModelHub).causalLM(spec.model).pipe(Effect.mapError(modelError))
        : yield* makeOpenAiCausalLM({
            baseUrl: spec.baseUrl,
            model: spec.model,
            apiKey: spec.apiKey,
            generateWith: spec.chat ? "chat" : "completions"
          }).pipe(Effect.mapError(modelError))
    const defaultK = options.k ?? 4
    const minScore = options.minScore ?? 0.1
    const maxNewTokens = options.maxNewTokens ?? (spec.kind === "local" ? 32 : 256)

    const ask = (question: string, o: { readonly k?: number | undefined } = {}): Effect.Effect<Answer, RagError> =>
      Effect.gen(function* () {
        const q = question.trim()
        if (q === "") return yield* new RagError({ reason: "BadInput", message: "the question is empty; type a question" })
        const k = o.k ?? defaultK
        if (!Number.isSafeInteger(k) || k < 1 || k > 50) return yield* new RagError({ reason: "BadInput", message: `k must be an integer in 1..50, got ${k}` })
        const t0 = performance.now()
        const qv = yield* encoder.embed([q]).pipe(Effect.mapError(modelError))
        const hits = index.search(qv, k).filter((h) => h.score >= minScore)
        const t1 = performance.now()
        if (hits.length === 0) {
          return { question: q, answer: "", sources: [], citations: [], noHits: true, prompt: "", retrieveMs: t1 - t0, generateMs: 0 }
        }
        const prompt = buildPrompt(q, hits)
        const [text] = yield* lm
          .generate([prompt], { maxNewTokens, temperature: 0, seed: 0, stop: ["\nQuestion:"] })
          .pipe(Effect.mapError(modelError))
        const answer = (text ?? "").trim()
        const citations = citedNumbers(answer, hits.length)
        const sources = hits.map((h, i) => ({ n: i + 1, chunk: h.chunk, score: h.score, cited: citations.includes(i + 1) }))
        return { question: q, answer, sources, citations, noHits: false, prompt, retrieveMs: t1 - t0, generateMs: performance.now() - t1 }
      })

    return { meta: index.meta, lm: spec.kind === "local" ? spec.model : `${spec.baseUrl} (${spec.model})`, ask }
  })
