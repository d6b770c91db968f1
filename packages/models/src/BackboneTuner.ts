/**
 * Fine-tuning a transformer model folder in process (@embedflow/tensor's layers): the whole
 * backbone or rank-r LoRA adapters, AdamW with parameter groups (embeddings at a lower learning
 * rate), linear warm-up then decay, GradCache steps over any loss of the embeddings, best-state
 * snapshots, and export back into the same ONNX graph (LoRA merged) so the folder loads in
 * onnxruntime, transformers.js and the Encoder unchanged.
 *
 * Shared by the stages that train backbones (contrastive-trainer, kl-distiller, reward-cross-encoder,
 * prompt-eol): one copy of the mechanics, each stage brings its loss.
 */
import {
  AdamW, addLora, type Head, type BertEncoder, concatRows, type Embedder, type ForwardContext, gradCachedStep, type GroupLoss, learningRateSchedule, loadOnnxModelBytes, type LoadedOnnxModel, type Matrix,
  mergeLora, padBatch, type Parameter, type PoolingKind, Rng, saveOnnxModelFolder, SentenceEmbedder, type TokenBatch
} from "@embedflow/tensor"
import { Effect } from "effect"
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import { exportEncoder } from "./ExportEncoder.js"
import { join } from "node:path"
import { loadTokenizer, type Tokenizer } from "./internal/tokenizer.js"
import { resolveModelFolder } from "./internal/folder.js"
import { ModelError } from "./ModelError.js"
import type { LoadOptions } from "./ModelSource.js"

export type TuningMode = "backbone" | "lora"

/** The settings a stage that tunes a backbone takes from its params (epochs of batches, AdamW, warm-up, LoRA rank). */
export interface TuningSettings {
  readonly mode: TuningMode
  readonly epochs: number
  /** Queries (or sentences) per optimizer step. */
  readonly batchSize: number
  readonly lr: number
  readonly weightDecay: number
  readonly warmupRatio: number
  readonly loraRank: number
  readonly maxLength: number
  readonly chunkSize: number
  readonly seed: number
}

export interface BackboneTunerOptions {
  readonly mode: TuningMode
  readonly pooling: PoolingKind
  /** L2-normalise the embeddings the loss sees (default true). */
  readonly normalize?: boolean
  /** Peak learning rate of the transformer layers (and of the adapters with LoRA). */
  readonly lr: number
  /** Embedding tables' learning rate as a fraction of lr (backbone mode; default 0.1). */
  readonly embeddingLrRatio?: number
  readonly weightDecay?: number
  readonly warmupSteps: number
  readonly totalSteps: number
  /** LoRA rank / alpha / feed-forward projections too (mode lora). */
  readonly lora?: { readonly rank: number; readonly alpha?: number; readonly feedForward?: boolean }
  /** Dropout probability in training (default: the config's hidden_dropout_prob). */
  readonly dropout?: number
  /** Tokens per sequence (default 128). */
  readonly maxLength?: number
  /**
   * A head on the pooled vectors, trained with the backbone (e.g. a cross-encoder's scalar score:
   * Linear(dim, 1)); exported into the same ONNX graph (output sentence_embedding).
   */
  readonly head?: (dim: number) => Head
  /** Sequences per GradCache chunk (default 32): bounds activation memory, not the batch. */
  readonly chunkSize?: number
  readonly seed: number
}

/** What to hand to a loss: token batches, each embedded into one matrix. */
export interface SequenceGroup {
  readonly texts: ReadonlyArray<string>
  /** Second segments (cross-encoders: "query [SEP] candidate" pairs). */
  readonly pairs?: ReadonlyArray<string>
}

export class BackboneTuner {
  private readonly optimizers: Array<{ readonly opt: AdamW; readonly ratio: number }>
  private readonly schedule: (step: number) => number
  private readonly rng: Rng
  private stepCount = 0
  /** The trained head on the pooled vectors (option `head`), else undefined. */
  readonly head: Head | undefined
  /** What the loss sees: pooled (+ normalised) vectors, through the head when there is one. */
  readonly embedder: Embedder

  private constructor(
    readonly loaded: LoadedOnnxModel,
    readonly tokenizer: Tokenizer,
    readonly sentenceEmbedder: SentenceEmbedder,
    readonly options: BackboneTunerOptions
  ) {
    const model = loaded.model
    this.head = options.head?.(model.config.hiddenSize)
    this.embedder = this.head ? new HeadEmbedder(sentenceEmbedder, this.head) : sentenceEmbedder
    if (options.mode === "lora") {
      const lora = options.lora ?? { rank: 8 }
      addLora(model, { rank: lora.rank, alpha: lora.alpha ?? lora.rank, feedForward: lora.feedForward ?? false, seed: options.seed })
    }
    const params = this.params()
    const isEmbedding = (p: Parameter) => /(^|\.)(embeddings\.(word|position|token_type)_embeddings|wte|wpe|embed_tokens|embed_positions)\./.test(`${p.name}.`)
    const ratio = options.embeddingLrRatio ?? 0.1
    const embeddingParams = params.filter(isEmbedding)
    const rest = params.filter((p) => !isEmbedding(p))
    const decay = options.weightDecay ?? 0.01
    this.optimizers = [
      { opt: new AdamW(rest, { lr: options.lr, weightDecay: decay }), ratio: 1 },
      ...(embeddingParams.length > 0 ? [{ opt: new AdamW(embeddingParams, { lr: options.lr * ratio, weightDecay: decay }), ratio }] : [])
    ]
    this.schedule = learningRateSchedule({ peakLr: options.lr, totalSteps: Math.max(1, options.totalSteps), warmupSteps: Math.min(options.totalSteps, options.warmupSteps) })
    this.rng = new Rng(options.seed >>> 0)
  }

  /** Loads a local folder or hub id (EMBEDFLOW_ALLOW_REMOTE=1) with its tokenizer. */
  static load = (model: string, options: BackboneTunerOptions, load: LoadOptions = {}): Effect.Effect<BackboneTuner, ModelError> =>
    Effect.gen(function* () {
      const resolved = yield* resolveModelFolder(model, load)
      const tokenizer = yield* loadTokenizer(model, resolved.dir)
      const loaded = yield* Effect.try({
        try: () => {
          const file = join(resolved.dir, "onnx", "model.onnx")
          const config = JSON.parse(readFileSync(join(resolved.dir, "config.json"), "utf8")) as Record<string, unknown>
          const dropout = options.dropout ?? (typeof config.hidden_dropout_prob === "number" ? config.hidden_dropout_prob : 0)
          return loadOnnxModelBytes(new Uint8Array(readFileSync(file)), { ...config, embedflow_dropout: dropout }, file, resolved.dir)
        },
        catch: (e) => new ModelError({ message: `model "${model}": ${e instanceof Error ? e.message : String(e)}`, model, file: "onnx/model.onnx", cause: e })
      })
      const embedder = new SentenceEmbedder(loaded.model, { pooling: options.pooling, normalize: options.normalize ?? true })
      return yield* Effect.try({
        try: () => new BackboneTuner(loaded, tokenizer, embedder, options),
        catch: (e) => new ModelError({ message: `model "${model}": ${e instanceof Error ? e.message : String(e)}`, model, cause: e })
      })
    })

  get dim(): number {
    return this.loaded.model.config.hiddenSize
  }

  /** Trainable parameters (all layers, or the adapters only with LoRA). */
  params(): Array<Parameter> {
    return [...this.loaded.model.params(), ...(this.head?.params() ?? [])]
  }

  /** Every weight of the model (what export writes), trainable or not. */
  allParams(): Array<Parameter> {
    return (this.loaded.model as BertEncoder).allParams()
  }

  tokenize(group: SequenceGroup): TokenBatch {
    const max = this.options.maxLength ?? 128
    const encoded = group.texts.map((t, i) => this.tokenizer.encode(t, group.pairs?.[i], max))
    const batch = padBatch(encoded.map((e) => e.ids), { padId: this.tokenizer.padId })
    if (encoded.every((e) => e.types === undefined)) return batch
    const types = new Int32Array(batch.batch * batch.seqLen)
    encoded.forEach((e, i) => e.types?.forEach((t, k) => (types[i * batch.seqLen + k] = t)))
    return { ...batch, tokenTypeIds: types }
  }

  /** Inference embeddings (no dropout, nothing kept), in chunks of 64 sequences. */
  embed(group: SequenceGroup, embedder: Embedder = this.embedder): Matrix {
    const parts: Array<Matrix> = []
    for (let s = 0; s < group.texts.length; s += 64) {
      parts.push(embedder.embed(this.tokenize({ texts: group.texts.slice(s, s + 64), ...(group.pairs ? { pairs: group.pairs.slice(s, s + 64) } : {}) })))
    }
    return concatRows(parts)
  }

  /**
   * One optimisation step: the groups are embedded (dropout on), `loss` sees their embedding
   * matrices and returns d loss / d embeddings; gradients flow through every trainable weight
   * (GradCache chunks), then AdamW steps each group at the scheduled rate. Returns the loss.
   */
  step(groups: ReadonlyArray<SequenceGroup>, loss: (embeddings: ReadonlyArray<Matrix>) => GroupLoss, embedder: Embedder = this.embedder, extra: ReadonlyArray<Parameter> = []): number {
    for (const { opt } of this.optimizers) opt.zeroGrad()
    for (const p of extra) p.grad.fill(0)
    const value = gradCachedStep(embedder, groups.map((g) => this.tokenize(g)), loss, { chunkSize: this.options.chunkSize ?? 32, train: true, rng: this.rng })
    if (!Number.isFinite(value)) throw new Error(`loss is ${value} at step ${this.stepCount}; lower the learning rate or raise the temperature`)
    const lr = this.schedule(this.stepCount)
    for (const { opt, ratio } of this.optimizers) opt.step(lr * ratio)
    this.stepCount++
    return value
  }

  /** The learning rate the last step used. */
  get lastLr(): number {
    return this.schedule(Math.max(0, this.stepCount - 1))
  }

  /** Copies of the trainable values (plus `extra`), for keeping the best epoch. */
  snapshot(extra: ReadonlyArray<Parameter> = []): Array<Float32Array> {
    return [...this.params(), ...extra].map((p) => p.value.slice())
  }

  restore(snapshot: ReadonlyArray<Float32Array>, extra: ReadonlyArray<Parameter> = []): void {
    const ps = [...this.params(), ...extra]
    if (ps.length !== snapshot.length) throw new Error(`restore: ${snapshot.length} tensors for ${ps.length} parameters`)
    ps.forEach((p, i) => p.value.set(snapshot[i]!))
  }

  /**
   * Writes the tuned model folder (the base folder's files, onnx/model.onnx with the new weights,
   * LoRA merged) and `embedflow-backbone.json` (provenance). Merging ends LoRA training: call last.
   */
  save(outDir: string, info: Record<string, unknown> = {}): Effect.Effect<string, ModelError> {
    const head = this.head
    if (head === undefined) return this.saveBackbone(outDir, info)
    // backbone (+ LoRA merged) to a side folder, then backbone + pooling + head as one graph
    const side = `${outDir}.backbone`
    return this.saveBackbone(outDir, info).pipe(
      Effect.flatMap(() =>
        exportEncoder({
          backbone: side,
          pooling: this.options.pooling === "cls" ? "cls" : "mean",
          normalize: this.options.normalize ?? true,
          head,
          outDir,
          info: { ...info, tuned: this.options.mode },
          files: { [BACKBONE_FILE]: readFileSync(join(side, BACKBONE_FILE), "utf8") }
        })
      ),
      Effect.ensuring(Effect.sync(() => rmSync(side, { recursive: true, force: true }))),
      Effect.map(() => join(outDir, "onnx", "model.onnx"))
    )
  }

  private saveBackbone(outDir: string, info: Record<string, unknown>): Effect.Effect<string, ModelError> {
    return Effect.try({
      try: () => {
        if (this.options.mode === "lora") mergeLora(this.loaded.model)
        const file = saveOnnxModelFolder(this.loaded, this.head ? `${outDir}.backbone` : outDir)
        writeFileSync(join(this.head ? `${outDir}.backbone` : outDir, BACKBONE_FILE), `${JSON.stringify({ format: "embedflow.tuned-backbone/v1", mode: this.options.mode, pooling: this.options.pooling, normalize: this.options.normalize ?? true, steps: this.stepCount, ...(this.options.mode === "lora" ? { lora: this.options.lora ?? { rank: 8 } } : {}), ...info }, null, 2)}\n`)
        return file
      },
      catch: (e) => new ModelError({ message: `cannot write the tuned model folder ${outDir}: ${e instanceof Error ? e.message : String(e)}`, model: outDir, cause: e })
    })
  }
}

/** Provenance of a folder written by BackboneTuner.save (mode, pooling, steps, LoRA shape). */
export const BACKBONE_FILE = "embedflow-backbone.json"

/** Pooled vectors through a trainable head (forward keeps its cache only when activations are kept). */
class HeadEmbedder implements Embedder {
  constructor(readonly inner: SentenceEmbedder, readonly head: Head) {}
  params(): Array<Parameter> {
    return [...this.inner.params(), ...this.head.params()]
  }
  embed(batch: TokenBatch, ctx: ForwardContext = {}): Matrix {
    const pooled = this.inner.embed(batch, ctx)
    return ctx.keep ? this.head.forward(pooled) : this.head.predict(pooled)
  }
  backward(d: Matrix): void {
    this.inner.backward(this.head.backward(d))
  }
}
