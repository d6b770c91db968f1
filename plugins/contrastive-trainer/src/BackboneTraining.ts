/**
 * contrastive-trainer with `train: backbone | lora`: the transformer itself is fine-tuned (every
 * layer, or rank-r LoRA adapters merged at export) with the same masked InfoNCE the head mode
 * uses, as SimCSE / MultiCSR train. Supervised: anchors against their positives, the other
 * positives and the hard negatives, false negatives masked. Unsupervised SimCSE
 * (`objective: simcse`): each anchor twice through dropout, the two views are the positive pair.
 * Early stopping on STS dev Spearman keeps the best epoch's weights (the base model is epoch 0);
 * only that state is exported.
 */
import { type Ports, StageError } from "@embedflow/core"
import { spearman } from "@embedflow/eval"
import { BackboneTuner, type SequenceGroup, type TuningMode } from "@embedflow/models"
import { EarlyStopping, type Matrix, pairInfoNce, Rng } from "@embedflow/tensor"
import { Effect } from "effect"
import type { EpochRecord } from "./Trainer.js"

const fail = (message: string, cause?: unknown) => new StageError({ message, cause })

export interface BackboneTrainingOptions {
  readonly mode: TuningMode
  readonly objective: "supervised" | "simcse"
  readonly pooling: "cls" | "mean"
  readonly temperature: number
  readonly lr: number
  readonly embeddingLrRatio: number
  readonly weightDecay: number
  readonly warmupRatio: number
  readonly epochs: number
  readonly patience: number
  readonly loraRank: number
  readonly loraAlpha: number | undefined
  readonly loraFeedForward: boolean
  readonly dropout: number
  readonly maxLength: number
  readonly chunkSize: number
  readonly seed: number
  readonly onLog?: (message: string) => Effect.Effect<void>
  readonly onStep?: (step: number, total: number) => Effect.Effect<void>
  readonly onEpoch?: (record: EpochRecord) => Effect.Effect<void>
}

export interface BackboneTrainingResult {
  readonly history: ReadonlyArray<EpochRecord>
  readonly bestEpoch: number
  readonly stoppedEarly: boolean
  readonly objectiveBefore: number
  readonly objectiveAfter: number
  readonly trainableParameters: number
  readonly seconds: number
}

/** The texts each step embeds: [anchors] and [positives, negatives] (simcse: [anchors] twice). */
const groupsOf = (b: Ports.MaskedBatch, objective: "supervised" | "simcse"): [SequenceGroup, SequenceGroup] =>
  objective === "simcse" ? [{ texts: b.anchors }, { texts: b.anchors }] : [{ texts: b.anchors }, { texts: [...b.positives, ...b.negatives] }]

const maskOf = (b: Ports.MaskedBatch, objective: "supervised" | "simcse", unpack: (b: Ports.MaskedBatch) => Uint8Array): Uint8Array | undefined =>
  objective === "supervised" && b.masked > 0 ? unpack(b) : undefined

/** Fine-tunes `base`'s transformer on the batches and writes the best state to `outDir`. */
export const trainBackbone = (
  base: string,
  outDir: string,
  batches: ReadonlyArray<Ports.MaskedBatch>,
  dev: ReadonlyArray<{ readonly a: string; readonly b: string; readonly score: number }>,
  unpackMask: (b: Ports.MaskedBatch) => Uint8Array,
  options: BackboneTrainingOptions
): Effect.Effect<BackboneTrainingResult, StageError> =>
  Effect.gen(function* () {
    const total = options.epochs * batches.length
    const tuner = yield* BackboneTuner.load(base, {
      mode: options.mode,
      pooling: options.pooling,
      normalize: true,
      lr: options.lr,
      embeddingLrRatio: options.embeddingLrRatio,
      weightDecay: options.weightDecay,
      warmupSteps: Math.round(options.warmupRatio * total),
      totalSteps: total,
      lora: { rank: options.loraRank, ...(options.loraAlpha !== undefined ? { alpha: options.loraAlpha } : {}), feedForward: options.loraFeedForward },
      dropout: options.dropout,
      maxLength: options.maxLength,
      chunkSize: options.chunkSize,
      seed: options.seed
    }).pipe(Effect.mapError((e) => fail(`train: ${options.mode}: ${e.message}`, e)))
    const params = tuner.params()
    const trainable = params.reduce((s, p) => s + p.value.length, 0)
    if (options.onLog) yield* options.onLog(`fine-tuning ${options.mode === "lora" ? `LoRA r=${options.loraRank} adapters` : "every layer"} of ${base}: ${trainable} trainable parameters`)

    const lossOf = (b: Ports.MaskedBatch, [a, c]: ReadonlyArray<Matrix>) => pairInfoNce(a!, c!, { temperature: options.temperature, mask: maskOf(b, options.objective, unpackMask) })
    // The objective in eval mode (no dropout): for simcse both views are then identical, so it
    // measures the supervised-style loss of each anchor against the others.
    const objective = (): number => {
      let sum = 0, n = 0
      for (const b of batches) {
        const [ga, gc] = groupsOf(b, options.objective)
        sum += lossOf(b, [tuner.embed(ga), tuner.embed(gc)]).loss * b.anchors.length
        n += b.anchors.length
      }
      return sum / n
    }
    const evaluate =
      dev.length > 1
        ? (): number => {
            const a = tuner.embed({ texts: dev.map((p) => p.a) }), b = tuner.embed({ texts: dev.map((p) => p.b) })
            const cos = Float64Array.from({ length: dev.length }, (_, i) => {
              let s = 0
              for (let k = 0; k < a.cols; k++) s += a.data[i * a.cols + k]! * b.data[i * a.cols + k]!
              return s
            })
            return spearman(cos, dev.map((p) => p.score))
          }
        : undefined

    const stopping = new EarlyStopping({ patience: options.patience, mode: "max" })
    const history: Array<EpochRecord> = []
    const objectiveBefore = objective()
    const dev0 = evaluate?.()
    history.push({ epoch: 0, trainLoss: objectiveBefore, ...(dev0 === undefined ? {} : { dev: dev0 }), lr: 0 })
    if (options.onEpoch) yield* options.onEpoch(history[0]!)
    let best = tuner.snapshot()
    let bestEpoch = 0
    if (dev0 !== undefined) stopping.update(dev0, params)
    let stoppedEarly = false
    let step = 0
    const started = performance.now()
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const order = new Rng((options.seed + Math.imul(epoch, 0x9e3779b1)) >>> 0).permutation(batches.length)
      let sum = 0, n = 0
      for (const k of order) {
        const b = batches[k]!
        const groups = groupsOf(b, options.objective)
        const loss = yield* Effect.try({
          try: () =>
            tuner.step(groups, (embeddings) => {
              const r = lossOf(b, embeddings)
              const { dAnchors, dCandidates } = r.backward()
              return { loss: r.loss, grads: [dAnchors, dCandidates] }
            }),
          catch: (e) => fail(`epoch ${epoch}, step ${step}: ${e instanceof Error ? e.message : String(e)}`, e)
        })
        step++
        sum += loss * b.anchors.length
        n += b.anchors.length
        if (options.onStep) yield* options.onStep(step, total)
      }
      const devScore = evaluate?.()
      const record: EpochRecord = { epoch, trainLoss: sum / n, ...(devScore === undefined ? {} : { dev: devScore }), lr: tuner.lastLr }
      history.push(record)
      if (options.onEpoch) yield* options.onEpoch(record)
      if (devScore === undefined) {
        best = tuner.snapshot()
        bestEpoch = epoch
        continue
      }
      const { improved, shouldStop } = stopping.update(devScore, params)
      if (improved) {
        best = tuner.snapshot()
        bestEpoch = epoch
      }
      if (shouldStop) {
        stoppedEarly = epoch < options.epochs
        break
      }
    }
    const seconds = (performance.now() - started) / 1000
    tuner.restore(best)
    const objectiveAfter = objective()
    yield* tuner.save(outDir, { trainer: "contrastive-trainer", baseModel: base, objective: options.objective, bestEpoch }).pipe(
      Effect.mapError((e) => fail(e.message, e))
    )
    return { history, bestEpoch, stoppedEarly, objectiveBefore, objectiveAfter, trainableParameters: trainable, seconds }
  })
