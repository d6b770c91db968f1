/**
 * kl-distiller with `train: backbone | lora`: the bi-encoder retriever's transformer itself (every
 * layer, or LoRA adapters merged at export) learns KL(p_reward || p_retriever) + alpha·InfoNCE,
 * queries and demonstrations through the same weights (LLM-R). The batch's objective is the one
 * the head mode uses (Objective.ts); gradients reach the layers through models' BackboneTuner.
 */
import { Ports } from "@embedflow/core"
import { BackboneTuner, type ModelError, type TuningSettings } from "@embedflow/models"
import { l2Normalize, matrix, Rng } from "@embedflow/tensor"
import { Effect } from "effect"
import { type DistillEpoch, objectiveBatchOf, queryText, rankAgreementBy } from "./KlDistiller.js"
import { objective, type ObjectiveOptions } from "./Objective.js"

type ScoredQuery = Ports.ScoredQuery

export interface BackboneDistillOptions extends ObjectiveOptions, TuningSettings {
  readonly pooling: "cls" | "mean"
}

export interface BackboneDistillResult {
  readonly history: ReadonlyArray<DistillEpoch>
  readonly kendallTau: { readonly on: string; readonly base: number; readonly distilled: number }
  readonly trainableParameters: number
  readonly tuner: BackboneTuner
}

/** Fine-tunes `base` (a model folder, or the previous round's tuned retriever) and writes it to `outDir`. */
export const distillBackbone = (
  base: string,
  outDir: string,
  data: ReadonlyArray<ScoredQuery>,
  heldOut: ReadonlyArray<ScoredQuery>,
  options: BackboneDistillOptions,
  onEpoch?: (stats: DistillEpoch) => Effect.Effect<void>
): Effect.Effect<BackboneDistillResult, ModelError | Error> =>
  Effect.gen(function* () {
    const usable = data.filter((q) => q.candidates.length >= 2)
    const total = options.epochs * Math.ceil(usable.length / options.batchSize)
    const tuner = yield* BackboneTuner.load(base, {
      mode: options.mode, pooling: options.pooling, normalize: false, lr: options.lr, weightDecay: options.weightDecay,
      warmupSteps: Math.round(options.warmupRatio * total), totalSteps: total, lora: { rank: options.loraRank },
      dropout: 0.1, maxLength: options.maxLength, chunkSize: options.chunkSize, seed: options.seed
    })
    const evalSet = heldOut.length > 0 ? heldOut : data
    const agreement = () => rankAgreementBy((texts) => l2Normalize(tuner.embed({ texts })).y.data, evalSet)
    const before = agreement()
    const rng = new Rng(options.seed + 1)
    const history: Array<DistillEpoch> = []
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const order = rng.shuffle(usable.slice())
      let loss = 0, kl = 0, infoNce = 0, steps = 0
      for (let start = 0; start < order.length; start += options.batchSize) {
        const batch = order.slice(start, start + options.batchSize)
        const b = objectiveBatchOf(batch)
        let parts = { kl: 0, infoNce: 0 }
        loss += yield* Effect.try({
          try: () =>
            tuner.step([{ texts: batch.map(queryText) }, { texts: b.candidateTexts }], ([q, c]) => {
              const r = objective({ dim: q!.cols, queries: q!.data, candidates: c!.data, ...b }, options)
              parts = r
              return { loss: r.loss, grads: [matrix(q!.rows, q!.cols, r.gradQueries), matrix(c!.rows, c!.cols, r.gradCandidates)] }
            }),
          catch: (e) => (e instanceof Error ? e : new Error(String(e)))
        })
        kl += parts.kl
        infoNce += parts.infoNce
        steps++
      }
      const stats = { epoch, loss: loss / Math.max(1, steps), kl: kl / Math.max(1, steps), infoNce: infoNce / Math.max(1, steps) }
      history.push(stats)
      if (onEpoch) yield* onEpoch(stats)
    }
    const after = agreement()
    const trainableParameters = tuner.params().reduce((s, p) => s + p.value.length, 0)
    yield* tuner.save(outDir, { trainer: "kl-distiller", baseModel: base })
    return { history, kendallTau: { on: heldOut.length > 0 ? "held-out queries" : "training queries", base: before, distilled: after }, trainableParameters, tuner }
  })
