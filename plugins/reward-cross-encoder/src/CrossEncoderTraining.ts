/**
 * The real LLM-R reward model: "[CLS] query [SEP] gold [SEP] demonstration" jointly encoded by the
 * transformer, a scalar head (Linear(dim, 1)) on the pooled [CLS] vector, every layer (or LoRA
 * adapters) trained with the listwise cross-entropy over each query's group (the top-ranked
 * candidate as the target, negatives from the bottom ranks). The export is one ONNX graph whose
 * `sentence_embedding` output [batch, 1] is the reward, so the score stage (or any onnxruntime /
 * transformers.js user) reads it like an encoder.
 */
import { Ports } from "@embedflow/core"
import { BackboneTuner, type ModelError, type TuningSettings } from "@embedflow/models"
import { type GroupLoss, Linear, listwiseCrossEntropy, type Matrix, matrix, Rng } from "@embedflow/tensor"
import { Effect } from "effect"
import { type EpochStats, type TrainingGroup, trainingGroups } from "./RewardModel.js"

type ScoredQuery = Ports.ScoredQuery

export interface CrossEncoderOptions extends TuningSettings {
  readonly negatives: number
  readonly negativeFrom: number
}

/**
 * Listwise cross-entropy of a batch of groups from their scores (one score per pair, groups
 * concatenated), the positive first in each group; the mean over groups and d loss / d scores.
 */
export const groupListwiseLoss = (groups: ReadonlyArray<TrainingGroup>, scores: Matrix): GroupLoss & { readonly hits: number } => {
  const grad = matrix(scores.rows, 1)
  let loss = 0, hits = 0, at = 0
  for (const g of groups) {
    const m = g.pairs.length
    const target = new Float32Array(m)
    target[0] = 1
    const r = listwiseCrossEntropy(matrix(1, m, scores.data.slice(at, at + m)), matrix(1, m, target))
    loss += r.loss / groups.length
    let best = true
    for (let j = 1; j < m; j++) if (scores.data[at + j]! >= scores.data[at]!) best = false
    if (best) hits++
    for (let j = 0; j < m; j++) grad.data[at + j] = r.grad.data[j]! / groups.length
    at += m
  }
  return { loss, grads: [grad], hits }
}

/** Loads the base encoder with a scalar scoring head on its [CLS] vector. */
export const loadCrossEncoder = (base: string, options: CrossEncoderOptions, totalSteps: number): Effect.Effect<BackboneTuner, ModelError> =>
  BackboneTuner.load(base, {
    mode: options.mode,
    pooling: "cls",
    normalize: false,
    lr: options.lr,
    weightDecay: options.weightDecay,
    warmupSteps: Math.round(options.warmupRatio * totalSteps),
    totalSteps,
    lora: { rank: options.loraRank },
    dropout: 0.1,
    maxLength: options.maxLength,
    chunkSize: options.chunkSize,
    seed: options.seed,
    head: (dim) => Linear.make({ inputDim: dim, outputDim: 1, init: "xavier", seed: options.seed })
  })

/** Trains the cross-encoder on LLM-scored candidate lists and writes it to `outDir`. */
export const trainCrossEncoder = (
  base: string,
  outDir: string,
  data: ReadonlyArray<ScoredQuery>,
  options: CrossEncoderOptions,
  onEpoch?: (stats: EpochStats) => Effect.Effect<void>
): Effect.Effect<{ readonly history: ReadonlyArray<EpochStats>; readonly trainableParameters: number; readonly tuner: BackboneTuner }, ModelError | Error> =>
  Effect.gen(function* () {
    const groupsPerEpoch = data.filter((q) => q.candidates.length >= 2).length
    const steps = options.epochs * Math.ceil(groupsPerEpoch / options.batchSize)
    const tuner = yield* loadCrossEncoder(base, options, steps)
    const rng = new Rng(options.seed + 1)
    const history: Array<EpochStats> = []
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const groups = rng.shuffle(trainingGroups(data, options, () => rng.next()))
      let lossSum = 0, hits = 0
      for (let start = 0; start < groups.length; start += options.batchSize) {
        const batch = groups.slice(start, start + options.batchSize)
        let batchHits = 0
        const loss = yield* Effect.try({
          try: () =>
            tuner.step([{ texts: batch.flatMap((g) => g.pairs) }], ([scores]) => {
              const r = groupListwiseLoss(batch, scores!)
              batchHits = r.hits
              return r
            }),
          catch: (e) => (e instanceof Error ? e : new Error(String(e)))
        })
        lossSum += loss * batch.length
        hits += batchHits
      }
      const stats = { epoch, loss: lossSum / Math.max(1, groups.length), accuracy: hits / Math.max(1, groups.length) }
      history.push(stats)
      if (onEpoch) yield* onEpoch(stats)
    }
    const trainableParameters = tuner.params().reduce((s, p) => s + p.value.length, 0)
    yield* tuner.save(outDir, { trainer: "reward-cross-encoder", baseModel: base, format: "embedflow/reward-cross-encoder", maxLength: options.maxLength })
    // `tuner` still scores in process after the save (LoRA is then merged into the same weights)
    return { history, trainableParameters, tuner }
  })
