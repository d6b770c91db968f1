/**
 * A token-level adapter for bag-of-vectors encoders (static word embeddings): one trainable delta
 * row per token of a chosen vocabulary, added to that token's frozen vector. Such an encoder pools
 * x = Σ_t c_t·E[token_t] (c_t: the pooling coefficient, e.g. SIF weight / known-word count), so
 * tuning the word vectors needs no second pass through the encoder:
 *
 *   x' = x + Σ_t c_t·Δ[token_t]        (tokens without a delta row contribute nothing)
 *   dΔ[v] += Σ_{(i,t): token = v} c_t·dx'_i,   dx = dx'
 *
 * Training Δ fine-tunes the word vectors of the words the data contains (Wieting et al. 2016,
 * "Towards universal paraphrastic sentence embeddings"), the other words keep their pretrained
 * vectors; a head on top maps both into the trained space.
 */
import { type Parameter, type TensorJson } from "./Head.js"
import { base64ToFloat32, float32ToBase64 } from "./internal/base64.js"
import { makeParam, requireDim } from "./internal/params.js"
import { type Matrix, matrix } from "./Matrix.js"

/**
 * The tokens of a batch of texts with their pooling coefficients, CSR-style: text i owns entries
 * offsets[i] .. offsets[i + 1] - 1 of `tokens` and `coefficients`.
 */
export interface TokenBags {
  readonly offsets: Int32Array
  readonly tokens: Int32Array
  readonly coefficients: Float32Array
}

export interface TokenDeltaJson {
  readonly format: "embedflow.token-delta/v1"
  readonly dim: number
  /** Token ids that own a row, ascending; row r of `delta` belongs to tokens[r]. */
  readonly tokens: ReadonlyArray<number>
  readonly delta: TensorJson
}

/** Number of texts in `bags`. */
export const bagCount = (bags: TokenBags): number => bags.offsets.length - 1

/** The bags of texts `rows` of `bags`, in that order (rows may repeat). */
export const gatherBags = (bags: TokenBags, rows: ArrayLike<number>): TokenBags => {
  const count = bagCount(bags)
  let size = 0
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!
    if (!(r >= 0 && r < count)) throw new RangeError(`gatherBags: row ${r} out of range [0, ${count})`)
    size += bags.offsets[r + 1]! - bags.offsets[r]!
  }
  const offsets = new Int32Array(rows.length + 1)
  const tokens = new Int32Array(size)
  const coefficients = new Float32Array(size)
  let at = 0
  for (let i = 0; i < rows.length; i++) {
    const from = bags.offsets[rows[i]!]!
    const to = bags.offsets[rows[i]! + 1]!
    tokens.set(bags.tokens.subarray(from, to), at)
    coefficients.set(bags.coefficients.subarray(from, to), at)
    at += to - from
    offsets[i + 1] = at
  }
  return { offsets, tokens, coefficients }
}

export class TokenDelta {
  /** Token ids owning a row, ascending. */
  readonly tokens: Int32Array
  readonly dim: number
  /** [tokens.length x dim], zero at the start (the frozen encoder); no weight decay. */
  readonly delta: Parameter
  private readonly rows: Map<number, number>
  private bags: TokenBags | undefined

  private constructor(tokens: Int32Array, dim: number) {
    this.tokens = tokens
    this.dim = dim
    this.delta = makeParam("delta", [tokens.length, dim], false)
    this.rows = new Map()
    tokens.forEach((t, r) => this.rows.set(t, r))
  }

  /** A zero delta (the identity) for the distinct ids in `tokens`. */
  static make(options: { readonly tokens: Iterable<number>; readonly dim: number }): TokenDelta {
    const dim = requireDim(options.dim, "dim", "TokenDelta")
    const ids = Int32Array.from(new Set(options.tokens)).sort()
    for (const t of ids) if (!(t >= 0)) throw new RangeError(`TokenDelta: token ids must be non-negative integers, got ${t}`)
    return new TokenDelta(ids, dim)
  }

  /** The distinct tokens of `bags`. */
  static vocabularyOf(bags: TokenBags): Set<number> {
    return new Set(bags.tokens)
  }

  static fromJSON(json: TokenDeltaJson): TokenDelta {
    if (json.format !== "embedflow.token-delta/v1") {
      throw new RangeError(`TokenDelta.fromJSON: format is ${JSON.stringify(json.format)}, expected "embedflow.token-delta/v1"`)
    }
    const dim = requireDim(json.dim, "dim", "TokenDelta.fromJSON")
    const tokens = Int32Array.from(json.tokens)
    for (let i = 1; i < tokens.length; i++) {
      if (!(tokens[i]! > tokens[i - 1]!)) throw new RangeError("TokenDelta.fromJSON: tokens must be strictly ascending")
    }
    const out = new TokenDelta(tokens, dim)
    const data = base64ToFloat32(json.delta.base64, "TokenDelta.fromJSON delta")
    if (data.length !== tokens.length * dim) {
      throw new RangeError(`TokenDelta.fromJSON: delta holds ${data.length} values, expected ${tokens.length} x ${dim}`)
    }
    out.delta.value.set(data)
    return out
  }

  /** Row of `token`, or -1 when it has none. */
  rowOf(token: number): number {
    return this.rows.get(token) ?? -1
  }

  /** x + Σ_t c_t·Δ[token_t] row by row (a new matrix), without keeping anything. */
  predict(x: Matrix, bags: TokenBags): Matrix {
    const dim = this.dim
    if (x.cols !== dim) throw new RangeError(`TokenDelta: input has ${x.cols} columns, expected ${dim}`)
    if (bagCount(bags) !== x.rows) throw new RangeError(`TokenDelta: ${bagCount(bags)} bags for ${x.rows} rows`)
    const y = matrix(x.rows, dim, x.data.slice())
    const d = this.delta.value
    for (let i = 0; i < x.rows; i++) {
      const out = i * dim
      for (let e = bags.offsets[i]!; e < bags.offsets[i + 1]!; e++) {
        const r = this.rowOf(bags.tokens[e]!)
        if (r < 0) continue
        const c = bags.coefficients[e]!
        const src = r * dim
        for (let k = 0; k < dim; k++) y.data[out + k] += c * d[src + k]!
      }
    }
    return y
  }

  /** As `predict`, keeping the bags for `backward`. */
  forward(x: Matrix, bags: TokenBags): Matrix {
    const y = this.predict(x, bags)
    this.bags = bags
    return y
  }

  /** Accumulates dL/dΔ from dL/dx' of the last forward; dL/dx equals dY (returned as is). */
  backward(dY: Matrix): Matrix {
    const bags = this.bags
    if (bags === undefined) throw new Error("TokenDelta.backward: call forward() first")
    const dim = this.dim
    if (dY.cols !== dim || dY.rows !== bagCount(bags)) throw new RangeError(`TokenDelta.backward: dY is ${dY.rows} x ${dY.cols}, expected ${bagCount(bags)} x ${dim}`)
    const g = this.delta.grad
    for (let i = 0; i < dY.rows; i++) {
      const src = i * dim
      for (let e = bags.offsets[i]!; e < bags.offsets[i + 1]!; e++) {
        const r = this.rowOf(bags.tokens[e]!)
        if (r < 0) continue
        const c = bags.coefficients[e]!
        const dst = r * dim
        for (let k = 0; k < dim; k++) g[dst + k] += c * dY.data[src + k]!
      }
    }
    return dY
  }

  params(): ReadonlyArray<Parameter> {
    return [this.delta]
  }

  zeroGrad(): void {
    this.delta.grad.fill(0)
  }

  /** Rows whose delta is not all zero (the tokens training actually moved). */
  changedTokens(): number {
    let n = 0
    for (let r = 0; r < this.tokens.length; r++) {
      const row = this.delta.value.subarray(r * this.dim, (r + 1) * this.dim)
      if (row.some((v) => v !== 0)) n++
    }
    return n
  }

  toJSON(): TokenDeltaJson {
    return {
      format: "embedflow.token-delta/v1",
      dim: this.dim,
      tokens: Array.from(this.tokens),
      delta: { shape: [this.tokens.length, this.dim], dtype: "float32", base64: float32ToBase64(this.delta.value) }
    }
  }
}
