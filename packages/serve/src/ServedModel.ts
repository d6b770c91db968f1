/**
 * The models a server holds: each `--model` folder is opened once as an Encoder (embedding models)
 * or a CrossEncoder (sequence-classification folders, served on /rerank), with its own batcher.
 */
import {
  encoderConfig,
  makeCrossEncoder,
  makeEncoder,
  ModelError,
  readSentenceTransformersLayout,
  resolveModel,
  type TokenizedText
} from "@embedflow/models"
import { Effect, type Scope } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { Batcher } from "./Batcher.js"
import type { ServerMetrics } from "./Metrics.js"
import { defaults, type ModelSpec, type ServeOptions } from "./ServeOptions.js"

export interface EmbeddingModel {
  readonly kind: "embedding"
  readonly id: string
  readonly source: string
  readonly dim: number
  /** Tokenizes as the encoder will (truncated to its max length). */
  readonly tokenize: (text: string) => TokenizedText
  /** Row vectors for the tokenized texts, batched with other requests' texts. */
  readonly batcher: Batcher<TokenizedText, Float32Array>
}

export interface RerankModel {
  readonly kind: "rerank"
  readonly id: string
  readonly source: string
  /** Raw scores (logits) of (query, text) pairs, batched with other requests' pairs. */
  readonly batcher: Batcher<readonly [string, string], number>
}

export type ServedModel = EmbeddingModel | RerankModel

/** Reads config.json to tell a cross-encoder (…ForSequenceClassification, not an exported encoder) from an encoder. */
const isCrossEncoder = (dir: string): boolean => {
  const config = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")) as { architectures?: unknown; embedflow?: { output?: unknown } }
  if (typeof config.embedflow?.output === "string") return false
  return Array.isArray(config.architectures) && config.architectures.some((a) => typeof a === "string" && a.endsWith("ForSequenceClassification"))
}

const runPromise = <A>(effect: Effect.Effect<A, ModelError>): Promise<A> => Effect.runPromise(effect)

export const loadModel = (spec: ModelSpec, options: ServeOptions, metrics: ServerMetrics): Effect.Effect<ServedModel, ModelError, Scope.Scope> =>
  Effect.gen(function* () {
    // Spinning intra-op threads would compete with the HTTP work between batches.
    const load = { allowSpinning: false, ...options.load }
    const { dir } = yield* resolveModel(spec.source, load)
    const labels = { model: spec.id }
    const onBatch = (inputs: number, cost: number) => {
      metrics.batchSize.observe(labels, inputs)
      if (kind === "embedding") {
        metrics.batchTokens.observe(labels, cost)
        metrics.tokens.inc(labels, cost)
      }
    }
    const batcherOptions = { maxWaitMs: options.maxWaitMs ?? defaults.maxWaitMs, maxQueued: options.maxQueued ?? defaults.maxQueued }
    const crossEncoder = yield* Effect.try({
      try: () => isCrossEncoder(dir),
      catch: (e) => new ModelError({ message: `model "${spec.source}": cannot read config.json: ${e instanceof Error ? e.message : String(e)}`, model: spec.source, file: "config.json" })
    })
    const kind = crossEncoder ? "rerank" : "embedding"
    if (crossEncoder) {
      const cross = yield* makeCrossEncoder(dir, { ...load, maxLength: options.maxLength ?? defaults.maxLength })
      const batcher = new Batcher<readonly [string, string], number>(
        (pairs) => runPromise(cross.score(pairs)).then((scores) => Array.from(scores)),
        () => 1,
        { ...batcherOptions, maxBatchCost: options.maxBatchPairs ?? defaults.maxBatchPairs },
        { onBatch }
      )
      metrics.queueDepth.track(labels, () => batcher.queued)
      return { kind: "rerank", id: spec.id, source: spec.source, batcher } satisfies RerankModel
    }
    const layout = yield* Effect.try({
      try: () => readSentenceTransformersLayout(dir),
      catch: (e) => new ModelError({ message: `model "${spec.source}": ${e instanceof Error ? e.message : String(e)}`, model: spec.source, file: "modules.json" })
    })
    const encoder = yield* makeEncoder(
      encoderConfig({
        model: dir,
        pooling: options.pooling ?? layout?.pooling ?? "mean",
        normalize: options.normalize ?? layout?.normalize ?? true,
        maxLength: options.maxLength ?? layout?.maxSeqLength ?? defaults.maxLength,
        maxTokensPerBatch: options.maxRunTokens ?? defaults.maxRunTokens
      }),
      load
    )
    const { tokenize, embedTokenized, dim } = encoder
    if (tokenize === undefined || embedTokenized === undefined) {
      return yield* new ModelError({ message: `model "${spec.source}": its encoder cannot tokenize separately, which batching needs`, model: spec.source })
    }
    const batcher = new Batcher<TokenizedText, Float32Array>(
      (texts) =>
        runPromise(embedTokenized(texts)).then((vectors) => Array.from({ length: texts.length }, (_, i) => vectors.subarray(i * dim, (i + 1) * dim))),
      (t) => t.ids.length,
      { ...batcherOptions, maxBatchCost: options.maxBatchTokens ?? defaults.maxBatchTokens },
      { onBatch }
    )
    metrics.queueDepth.track(labels, () => batcher.queued)
    return { kind: "embedding", id: spec.id, source: spec.source, dim, tokenize, batcher } satisfies EmbeddingModel
  })
