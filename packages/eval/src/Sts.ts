import { Effect } from "effect"
import { pearson, spearman } from "./Correlation.js"
import { EvalError } from "./EvalError.js"

/** Row-major float32 matrix, the shape of core's `Vectors`. */
export interface Matrix {
  readonly dim: number
  readonly count: number
  readonly data: Float32Array
}

export interface StsResult {
  /** Spearman's rho of cosine vs gold, as a fraction (0.8 is the "80.0" of papers). */
  readonly spearman: number
  readonly pearson: number
  readonly count: number
}

/**
 * Cosine of row i of `a` with row i of `b`, accumulated in float64. A zero row has cosine 0 with
 * everything (it carries no direction).
 */
export const pairwiseCosine = (a: Matrix, b: Matrix): Float64Array => {
  if (a.dim !== b.dim || a.count !== b.count) {
    throw new RangeError(`pairwiseCosine: a is ${a.count}x${a.dim}, b is ${b.count}x${b.dim}; expected the same shape`)
  }
  const { dim, count } = a
  if (a.data.length !== dim * count || b.data.length !== dim * count) {
    throw new RangeError(`pairwiseCosine: data lengths ${a.data.length}/${b.data.length}, expected ${dim * count}`)
  }
  const out = new Float64Array(count)
  for (let r = 0; r < count; r++) {
    let dot = 0
    let na = 0
    let nb = 0
    const o = r * dim
    for (let j = 0; j < dim; j++) {
      const x = a.data[o + j]!
      const y = b.data[o + j]!
      dot += x * y
      na += x * x
      nb += y * y
    }
    out[r] = na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb)
  }
  return out
}

/** STS evaluation: cosine of the two embedding matrices' rows against gold scores. */
export const evaluateSts = (a: Matrix, b: Matrix, gold: ArrayLike<number>): Effect.Effect<StsResult, EvalError> =>
  Effect.try({
    try: () => {
      if (gold.length !== a.count) throw new RangeError(`${gold.length} gold scores for ${a.count} embedding pairs`)
      const cos = pairwiseCosine(a, b)
      const result = { spearman: spearman(cos, gold), pearson: pearson(cos, gold), count: a.count }
      if (Number.isNaN(result.spearman)) throw new RangeError("the cosines or the gold scores are constant; correlation is undefined")
      return result
    },
    catch: (cause) => new EvalError({ message: `STS evaluation: ${cause instanceof Error ? cause.message : String(cause)}`, cause })
  })
