/**
 * LoRA (Hu et al. 2021): a frozen projection W gains a trainable rank-r update, y = x·W + b + s·(x·A)·B
 * with A [in, r] (small random), B [r, out] (zeros, so training starts from the base model) and
 * s = alpha / r. Only A and B train; `mergeLora` folds s·A·B into W for export, so the exported
 * graph is the base graph with new weights.
 */
import { type Parameter } from "../Head.js"
import { type Matrix } from "../Matrix.js"
import { matmul, matmulABt, matmulAtB } from "../Matmul.js"
import { Rng } from "../Rng.js"
import { type Dense } from "./Dense.js"
import { type ForwardContext, missingCache, type Module, parameter } from "./Module.js"

export interface LoraOptions {
  readonly rank: number
  /** Scale numerator: s = alpha / rank (default alpha = rank, s = 1). */
  readonly alpha?: number
  /** Seed of A's initialisation (default 0). */
  readonly seed?: number
  /** Also adapt the feed-forward projections (default: attention projections only). */
  readonly feedForward?: boolean
}

export class LoraAdapter implements Module {
  readonly a: Parameter
  readonly b: Parameter
  readonly scale: number
  private u: Matrix | undefined

  constructor(readonly base: Dense, readonly rank: number, alpha: number, rng: Rng) {
    if (!(Number.isInteger(rank) && rank > 0)) throw new RangeError(`LoRA on ${base.name}: rank must be a positive integer, got ${rank}`)
    this.a = parameter(`${base.name}.lora_A`, [base.inputDim, rank], true)
    this.b = parameter(`${base.name}.lora_B`, [rank, base.outputDim], true)
    this.scale = alpha / rank
    // Kaiming-uniform-like bound as in peft; B = 0 keeps the initial model unchanged.
    const bound = 1 / Math.sqrt(base.inputDim)
    rng.fillUniform(this.a.value, -bound, bound)
  }

  params(): Array<Parameter> {
    return [this.a, this.b]
  }

  private get aMatrix(): Matrix {
    return { rows: this.base.inputDim, cols: this.rank, data: this.a.value }
  }
  private get bMatrix(): Matrix {
    return { rows: this.rank, cols: this.base.outputDim, data: this.b.value }
  }

  /** y += s·(x·A)·B */
  forward(x: Matrix, y: Matrix, ctx: ForwardContext): void {
    const u = matmul(x, this.aMatrix)
    matmul(u, this.bMatrix, { out: y, accumulate: true, alpha: this.scale })
    if (ctx.keep) this.u = u
  }

  /** Accumulates dA, dB and adds the adapter's share into dX. */
  backward(x: Matrix, dY: Matrix, dX: Matrix): void {
    const u = this.u
    if (u === undefined) throw missingCache(`${this.base.name} LoRA`)
    this.u = undefined
    matmulAtB(u, dY, { out: { rows: this.rank, cols: this.base.outputDim, data: this.b.grad }, accumulate: true, alpha: this.scale })
    const du = matmulABt(dY, this.bMatrix, { alpha: this.scale })
    matmulAtB(x, du, { out: { rows: this.base.inputDim, cols: this.rank, data: this.a.grad }, accumulate: true })
    matmulABt(du, this.aMatrix, { out: dX, accumulate: true })
  }

  /** W + s·A·B, without changing W. */
  mergedWeight(): Float32Array {
    const w = this.base.weight.value.slice()
    matmul(this.aMatrix, this.bMatrix, { out: { rows: this.base.inputDim, cols: this.base.outputDim, data: w }, accumulate: true, alpha: this.scale })
    return w
  }
}

/** Models that expose their projections for adaptation. */
export interface LoraTargets {
  /** Attention projections (query, key, value, output). */
  attentionProjections(): Array<Dense>
  feedForwardProjections(): Array<Dense>
  /** Everything trainable in the model, frozen by addLora. */
  freezeAll(): void
}

/** Freezes the model and attaches rank-r adapters to its attention (optionally FFN) projections. */
export const addLora = (model: LoraTargets, options: LoraOptions): Array<LoraAdapter> => {
  const rng = new Rng(options.seed ?? 0)
  model.freezeAll()
  const targets = [...model.attentionProjections(), ...(options.feedForward ? model.feedForwardProjections() : [])]
  return targets.map((dense) => {
    if (dense.adapter) throw new Error(`addLora: ${dense.name} already has an adapter`)
    dense.adapter = new LoraAdapter(dense, options.rank, options.alpha ?? options.rank, rng)
    return dense.adapter
  })
}

/** Folds every adapter into its base weight and removes it (the model is then plain again, still frozen). */
export const mergeLora = (model: LoraTargets): void => {
  for (const dense of [...model.attentionProjections(), ...model.feedForwardProjections()]) {
    if (!dense.adapter) continue
    dense.weight.value.set(dense.adapter.mergedWeight())
    dense.adapter = undefined
  }
}
