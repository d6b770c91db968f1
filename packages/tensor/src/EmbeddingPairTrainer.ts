/**
 * One optimisation step of the embedding-pair InfoNCE objective, with the safety checks every
 * training loop needs: zero grads, loss, finiteness check naming the step, backward, global-norm
 * clipping (the norm is checked too), scheduled learning rate, AdamW update.
 */
import { type AdamW } from "./AdamW.js"
import { type EmbeddingPairBatch, embeddingPairLoss } from "./EmbeddingPairLoss.js"
import { clipGradNorm, globalGradNorm } from "./GradClip.js"
import { type Head } from "./Head.js"
import { assertFinite } from "./NonFinite.js"

export interface EmbeddingPairTrainerOptions {
  readonly optimizer: AdamW
  readonly temperature: number
  readonly symmetric?: boolean
  /** Learning rate for each 0-based step (default: the optimizer's lr). */
  readonly schedule?: (step: number) => number
  /** Clip the global gradient norm to this (default: no clipping). */
  readonly maxGradNorm?: number
}

export interface TrainStepResult {
  /** 0-based index of the step just taken. */
  readonly step: number
  readonly loss: number
  readonly accuracy: number
  readonly lr: number
  /** Global gradient norm before clipping. */
  readonly gradNorm: number
}

export class EmbeddingPairTrainer {
  private steps = 0

  constructor(readonly head: Head, readonly options: EmbeddingPairTrainerOptions) {
    if (options.optimizer.params.length !== head.params().length || options.optimizer.params.some((p, i) => p !== head.params()[i])) {
      throw new RangeError("EmbeddingPairTrainer: the optimizer must be built over head.params()")
    }
  }

  get stepCount(): number {
    return this.steps
  }

  /** Takes one step; throws NonFiniteError ("loss is NaN at step 7") if the loss or gradient norm is not finite. */
  step(batch: EmbeddingPairBatch): TrainStepResult {
    const step = this.steps
    const { optimizer, schedule, maxGradNorm } = this.options
    const params = this.head.params()
    optimizer.zeroGrad()
    const out = embeddingPairLoss(this.head, batch, { temperature: this.options.temperature, symmetric: this.options.symmetric })
    assertFinite(out.loss, step, "loss")
    out.backward()
    const gradNorm = assertFinite(maxGradNorm === undefined ? globalGradNorm(params) : clipGradNorm(params, maxGradNorm), step, "gradient norm")
    const lr = schedule ? schedule(step) : optimizer.lr
    optimizer.step(lr)
    this.steps++
    return { step, loss: out.loss, accuracy: out.accuracy, lr, gradNorm }
  }
}
