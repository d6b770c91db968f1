/**
 * Rank correlations in float64. Inputs may be any numeric array (Float32Array embeddings scores,
 * plain gold arrays); all arithmetic is double precision.
 */

const check = (x: ArrayLike<number>, y: ArrayLike<number>, what: string): void => {
  if (x.length !== y.length) throw new RangeError(`${what}: x has ${x.length} values, y has ${y.length}; expected equal lengths`)
  if (x.length < 2) throw new RangeError(`${what}: expected at least 2 pairs, got ${x.length}`)
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!) || !Number.isFinite(y[i]!)) throw new RangeError(`${what}: pair ${i} is not finite (${x[i]}, ${y[i]})`)
  }
}

/** 1-based ranks, ties sharing the average of the ranks they span (scipy.stats.rankdata "average"). */
export const rank = (values: ArrayLike<number>): Float64Array => {
  const n = values.length
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!)
  const ranks = new Float64Array(n)
  for (let i = 0; i < n; ) {
    let j = i
    while (j + 1 < n && values[order[j + 1]!] === values[order[i]!]) j++
    const avg = (i + j) / 2 + 1
    for (let t = i; t <= j; t++) ranks[order[t]!] = avg
    i = j + 1
  }
  return ranks
}

/** Pearson's r; NaN when either side is constant (as scipy). Two-pass to avoid cancellation. */
export const pearson = (x: ArrayLike<number>, y: ArrayLike<number>): number => {
  check(x, y, "pearson")
  const n = x.length
  let mx = 0
  let my = 0
  for (let i = 0; i < n; i++) {
    mx += x[i]!
    my += y[i]!
  }
  mx /= n
  my /= n
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx
    const dy = y[i]! - my
    sxy += dx * dy
    sxx += dx * dx
    syy += dy * dy
  }
  if (sxx === 0 || syy === 0) return Number.NaN
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)))
}

/** Spearman's rho: Pearson's r of the average ranks (correct with ties, unlike the 1 - 6Σd²/… shortcut). */
export const spearman = (x: ArrayLike<number>, y: ArrayLike<number>): number => {
  check(x, y, "spearman")
  return pearson(rank(x), rank(y))
}
