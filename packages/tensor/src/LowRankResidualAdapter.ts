/**
 * Low-rank residual adapter (LoRA-style, on embeddings): y = x + s·(x·D)·U with D: [dim, rank]
 * ("down", random) and U: [rank, dim] ("up", zero), so a fresh adapter is exactly the identity.
 * In column-vector notation this is y = x + s·B·A·x with A = Dᵀ, B = Uᵀ.
 * Backward with h = x·D: dU += s·hᵀ·dY, dH = s·dY·Uᵀ, dD += xᵀ·dH, dX = dY + dH·Dᵀ.
 */
import { type Head, type HeadGraph, ParameterizedHead, type HeadJson, type Parameter } from "./Head.js"
import { type Matrix } from "./Matrix.js"
import { matmul, matmulABt, matmulAtB } from "./Matmul.js"
import { Rng } from "./Rng.js"
import { asMatrix, headToJson, loadWeights, makeParam, requireBatch, requireDim } from "./internal/params.js"

export interface LowRankResidualAdapterOptions {
  readonly dim: number
  readonly rank: number
  /** Residual scale s (default 1). */
  readonly scale?: number
  /** Seed of the "down" initialisation, normal with std 1/√dim (default 0). */
  readonly seed?: number
}

export class LowRankResidualAdapter extends ParameterizedHead implements Head {
  readonly kind = "low-rank-residual" as const
  readonly inputDim: number
  readonly outputDim: number
  readonly rank: number
  readonly scale: number
  readonly down: Parameter
  readonly up: Parameter
  private cache: { readonly x: Matrix; readonly h: Matrix } | undefined

  private constructor(dim: number, rank: number, scale: number) {
    super()
    this.inputDim = dim
    this.outputDim = dim
    this.rank = rank
    this.scale = scale
    this.down = makeParam("down", [dim, rank], true)
    this.up = makeParam("up", [rank, dim], true)
  }

  static make(options: LowRankResidualAdapterOptions): LowRankResidualAdapter {
    const dim = requireDim(options.dim, "dim", "LowRankResidualAdapter")
    const rank = requireDim(options.rank, "rank", "LowRankResidualAdapter")
    const scale = options.scale ?? 1
    if (!Number.isFinite(scale)) throw new RangeError(`LowRankResidualAdapter: scale must be finite, got ${scale}`)
    const head = new LowRankResidualAdapter(dim, rank, scale)
    new Rng(options.seed ?? 0).fillNormal(head.down.value, 0, 1 / Math.sqrt(dim))
    return head
  }

  static fromJSON(json: HeadJson): LowRankResidualAdapter {
    if (json.kind !== "low-rank-residual") {
      throw new RangeError(`LowRankResidualAdapter.fromJSON: kind is "${json.kind}", expected "low-rank-residual"`)
    }
    const scale = json.config.scale
    if (typeof scale !== "number" || !Number.isFinite(scale)) {
      throw new RangeError(`LowRankResidualAdapter.fromJSON: config.scale must be a finite number, got ${String(scale)}`)
    }
    const head = new LowRankResidualAdapter(
      requireDim(json.config.dim, "config.dim", "LowRankResidualAdapter.fromJSON"),
      requireDim(json.config.rank, "config.rank", "LowRankResidualAdapter.fromJSON"),
      scale
    )
    loadWeights(json, head.params())
    return head
  }

  private run(x: Matrix): { y: Matrix; h: Matrix } {
    requireBatch(x, this.inputDim, "LowRankResidualAdapter.forward")
    const h = matmul(x, asMatrix(this.down))
    const y = { rows: x.rows, cols: x.cols, data: x.data.slice() }
    matmul(h, asMatrix(this.up), { out: y, accumulate: true, alpha: this.scale })
    return { y, h }
  }

  predict(x: Matrix): Matrix {
    return this.run(x).y
  }

  forward(x: Matrix): Matrix {
    const { y, h } = this.run(x)
    this.cache = { x, h }
    return y
  }

  backward(dY: Matrix): Matrix {
    const c = this.cache
    if (c === undefined) throw new Error("LowRankResidualAdapter.backward: call forward() first")
    if (dY.rows !== c.x.rows || dY.cols !== this.outputDim) {
      throw new RangeError(`LowRankResidualAdapter.backward: dY is ${dY.rows} x ${dY.cols}, expected ${c.x.rows} x ${this.outputDim}`)
    }
    matmulAtB(c.h, dY, { out: asMatrix(this.up, "grad"), accumulate: true, alpha: this.scale })
    const dH = matmulABt(dY, asMatrix(this.up), { alpha: this.scale })
    matmulAtB(c.x, dH, { out: asMatrix(this.down, "grad"), accumulate: true })
    const dX = { rows: dY.rows, cols: dY.cols, data: dY.data.slice() }
    matmulABt(dH, asMatrix(this.down), { out: dX, accumulate: true })
    return dX
  }

  params(): ReadonlyArray<Parameter> {
    return [this.down, this.up]
  }



  describe(): HeadGraph {
    return {
      kind: this.kind,
      inputDim: this.inputDim,
      outputDim: this.outputDim,
      formula: `y = x + ${this.scale}·(x·D)·U  (D: ${this.inputDim}x${this.rank}, U: ${this.rank}x${this.inputDim})`,
      steps: [{ op: "residual", scale: this.scale, body: [{ op: "matmul", weight: "down" }, { op: "matmul", weight: "up" }] }],
      weights: { down: { shape: this.down.shape, data: this.down.value }, up: { shape: this.up.shape, data: this.up.value } }
    }
  }

  toJSON(): HeadJson {
    return headToJson(this.kind, { dim: this.inputDim, rank: this.rank, scale: this.scale }, this.params())
  }
}
