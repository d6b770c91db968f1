/**
 * PromptEOL's fine-tuned setting (Jiang et al. 2023, §"contrastive learning"): LoRA adapters on the
 * decoder's attention projections trained with the supervised SimCSE loss over PromptEOL embeddings
 * (the final hidden state of the template's last token) of NLI triples: each anchor against its
 * entailment, the other anchors' entailments and every contradiction in the batch. The adapters
 * are merged at export, so the folder is a plain causal-LM folder that `models/embed` (pooling
 * prompt-eol) and this plugin's `embed` stage read unchanged.
 */
import { type Ports, StageError } from "@embedflow/core"
import { BackboneTuner, type ModelError } from "@embedflow/models"
import { pairInfoNce } from "@embedflow/tensor"
import { Effect } from "effect"
import { renderPrompt } from "./PromptEol.js"

export interface FineTuneOptions {
  /** The full template (`{text}` once), as `buildTemplate` gives it. */
  readonly template: string
  readonly mode: "lora" | "backbone"
  readonly loraRank: number
  readonly loraAlpha: number | undefined
  readonly loraFeedForward: boolean
  readonly lr: number
  readonly weightDecay: number
  readonly warmupRatio: number
  readonly epochs: number
  readonly batchSize: number
  readonly temperature: number
  readonly maxLength: number
  readonly chunkSize: number
  readonly seed: number
  readonly onStep?: (step: number, total: number, loss: number) => Effect.Effect<void>
}

export interface FineTuneResult {
  readonly losses: ReadonlyArray<number>
  readonly objectiveBefore: number
  readonly objectiveAfter: number
  readonly trainableParameters: number
  readonly tuner: BackboneTuner
}

/** Fine-tunes the causal LM at `model` on NLI triples and writes the merged folder to `outDir`. */
export const fineTunePromptEol = (
  model: string,
  outDir: string,
  triples: ReadonlyArray<Ports.Triple>,
  options: FineTuneOptions
): Effect.Effect<FineTuneResult, ModelError | StageError> =>
  Effect.gen(function* () {
    const batches: Array<ReadonlyArray<Ports.Triple>> = []
    for (let s = 0; s < triples.length; s += options.batchSize) batches.push(triples.slice(s, s + options.batchSize))
    if (batches.length === 0) return yield* new StageError({ message: "prompt-eol/finetune: no triples" })
    const total = options.epochs * batches.length
    const tuner = yield* BackboneTuner.load(model, {
      mode: options.mode, pooling: "last", normalize: true, lr: options.lr, weightDecay: options.weightDecay,
      warmupSteps: Math.round(options.warmupRatio * total), totalSteps: total,
      lora: { rank: options.loraRank, ...(options.loraAlpha !== undefined ? { alpha: options.loraAlpha } : {}), feedForward: options.loraFeedForward },
      maxLength: options.maxLength, chunkSize: options.chunkSize, seed: options.seed
    })
    const prompt = (t: string) => renderPrompt(options.template, t)
    const groupsOf = (b: ReadonlyArray<Ports.Triple>) => [
      { texts: b.map((t) => prompt(t.anchor)) },
      { texts: [...b.map((t) => prompt(t.positive)), ...b.flatMap((t) => (t.negative === undefined ? [] : [prompt(t.negative)]))] }
    ]
    const objective = () => {
      let sum = 0
      for (const b of batches) {
        const [a, c] = groupsOf(b)
        sum += pairInfoNce(tuner.embed(a!), tuner.embed(c!), { temperature: options.temperature }).loss * b.length
      }
      return sum / triples.length
    }
    const objectiveBefore = objective()
    const losses: Array<number> = []
    let step = 0
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      for (const b of batches) {
        const loss = yield* Effect.try({
          try: () =>
            tuner.step(groupsOf(b), ([a, c]) => {
              const r = pairInfoNce(a!, c!, { temperature: options.temperature })
              const { dAnchors, dCandidates } = r.backward()
              return { loss: r.loss, grads: [dAnchors, dCandidates] }
            }),
          catch: (e) => new StageError({ message: `prompt-eol/finetune step ${step}: ${e instanceof Error ? e.message : String(e)}`, cause: e })
        })
        losses.push(loss)
        step++
        if (options.onStep) yield* options.onStep(step, total, loss)
      }
    }
    const objectiveAfter = objective()
    const trainableParameters = tuner.params().reduce((s, p) => s + p.value.length, 0)
    yield* tuner.save(outDir, { trainer: "prompt-eol/finetune", baseModel: model, template: options.template })
    return { losses, objectiveBefore, objectiveAfter, trainableParameters, tuner }
  })
