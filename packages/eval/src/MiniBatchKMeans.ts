import { gatherRows, matmulABt, type Matrix, Rng } from "@embedflow/tensor"

/**
 * Mini-batch k-means (Sculley 2010) as scikit-learn's `MiniBatchKMeans` runs it: greedy k-means++
 * seeding on an `initSize` sample (best of `nInit` by inertia on that sample), then steps on random
 * mini-batches with per-centre learning rates 1/count, stopped when the smoothed batch inertia has not
 * improved for `maxNoImprovement` steps or after `maxIter` passes over the data. Not ported: sklearn's
 * random reassignment of nearly empty centres. Distances go through tensor's `matmulABt`.
 */
export interface MiniBatchKMeansOptions {
  readonly k: number
  readonly seed: number
  /** MTEB's ClusteringEvaluator uses 500. */
  readonly batchSize?: number
  readonly maxIter?: number
  readonly nInit?: number
  readonly maxNoImprovement?: number
  readonly initSize?: number
}

export interface KMeansResult {
  readonly centers: Matrix
  /** Nearest centre of each row. */
  readonly labels: Int32Array
  /** Sum of squared distances of the rows to their centres. */
  readonly inertia: number
  readonly steps: number
}

const squaredNorms = (m: Matrix): Float64Array => {
  const out = new Float64Array(m.rows)
  for (let i = 0; i < m.rows; i++) {
    let s = 0
    for (let j = 0; j < m.cols; j++) s += m.data[i * m.cols + j]! ** 2
    out[i] = s
  }
  return out
}

/** Nearest centre and squared distance of each row (‖x‖² − 2x·c + ‖c‖², clamped at 0). */
export const assign = (x: Matrix, centers: Matrix, xNorms = squaredNorms(x)): { labels: Int32Array; distances: Float64Array } => {
  const dots = matmulABt(x, centers)
  const cNorms = squaredNorms(centers)
  const labels = new Int32Array(x.rows)
  const distances = new Float64Array(x.rows)
  const k = centers.rows
  for (let i = 0; i < x.rows; i++) {
    let best = Infinity
    let arg = 0
    for (let c = 0; c < k; c++) {
      const d = xNorms[i]! - 2 * dots.data[i * k + c]! + cNorms[c]!
      if (d < best) {
        best = d
        arg = c
      }
    }
    labels[i] = arg
    distances[i] = Math.max(best, 0)
  }
  return { labels, distances }
}

/** Greedy k-means++: each new centre is the best of 2 + ⌊ln k⌋ candidates drawn ∝ D². */
const kmeansPlusPlus = (x: Matrix, k: number, rng: Rng): Matrix => {
  const n = x.rows
  const d = x.cols
  const centers = new Float32Array(k * d)
  const trials = 2 + Math.floor(Math.log(k))
  const first = rng.int(n)
  centers.set(x.data.subarray(first * d, (first + 1) * d), 0)
  const closest = assign(x, { rows: 1, cols: d, data: centers.slice(0, d) }).distances
  for (let c = 1; c < k; c++) {
    let total = 0
    for (const v of closest) total += v
    let bestPot = Infinity
    let bestIdx = 0
    let bestDist: Float64Array = closest
    for (let t = 0; t < trials; t++) {
      let r = rng.uniform() * total
      let idx = 0
      while (idx < n - 1 && r >= closest[idx]!) r -= closest[idx++]!
      const dist = assign(x, { rows: 1, cols: d, data: x.data.slice(idx * d, (idx + 1) * d) }).distances
      let pot = 0
      for (let i = 0; i < n; i++) pot += Math.min(closest[i]!, dist[i]!)
      if (pot < bestPot) {
        bestPot = pot
        bestIdx = idx
        bestDist = dist
      }
    }
    centers.set(x.data.subarray(bestIdx * d, (bestIdx + 1) * d), c * d)
    for (let i = 0; i < n; i++) closest[i] = Math.min(closest[i]!, bestDist[i]!)
  }
  return { rows: k, cols: d, data: centers }
}

export const miniBatchKMeans = (x: Matrix, options: MiniBatchKMeansOptions): KMeansResult => {
  const { k, seed } = options
  const n = x.rows
  if (!(Number.isInteger(k) && k >= 1 && k <= n)) throw new RangeError(`miniBatchKMeans: k must be in 1..${n}, got ${k}`)
  const batchSize = Math.min(options.batchSize ?? 1024, n)
  const maxIter = options.maxIter ?? 100
  const nInit = options.nInit ?? 3
  const maxNoImprovement = options.maxNoImprovement ?? 10
  const initSize = Math.min(n, Math.max(options.initSize ?? 3 * batchSize, 3 * k))
  const rng = new Rng(seed)
  const xNorms = squaredNorms(x)

  // Seeding: best of nInit k-means++ runs, judged on a sample of initSize rows.
  const sample = gatherRows(x, rng.sample(n, initSize))
  let centers: Matrix | undefined
  let bestInertia = Infinity
  for (let run = 0; run < nInit; run++) {
    const c = kmeansPlusPlus(sample, k, rng)
    const inertia = assign(sample, c).distances.reduce((s, v) => s + v, 0)
    if (inertia < bestInertia) {
      bestInertia = inertia
      centers = c
    }
  }
  const c = centers!
  const d = x.cols
  const counts = new Float64Array(k)
  const steps = Math.floor((maxIter * n) / batchSize)
  const alpha = Math.min(1, (batchSize * 2) / (n + 1))
  let ewa: number | undefined
  let bestEwa = Infinity
  let noImprovement = 0
  let step = 0
  const batchIdx = new Int32Array(batchSize)
  for (; step < steps; step++) {
    for (let i = 0; i < batchSize; i++) batchIdx[i] = rng.int(n)
    const batch = gatherRows(x, batchIdx)
    const batchNorms = new Float64Array(batchSize)
    for (let i = 0; i < batchSize; i++) batchNorms[i] = xNorms[batchIdx[i]!]!
    const { labels, distances } = assign(batch, c, batchNorms)
    // Per-centre running mean: new = (old·w + Σ batch rows) / (w + m).
    const sums = new Float64Array(k * d)
    const m = new Float64Array(k)
    for (let i = 0; i < batchSize; i++) {
      const l = labels[i]!
      m[l]!++
      for (let j = 0; j < d; j++) sums[l * d + j]! += batch.data[i * d + j]!
    }
    for (let l = 0; l < k; l++) {
      if (m[l] === 0) continue
      const w = counts[l]!
      counts[l] = w + m[l]!
      for (let j = 0; j < d; j++) c.data[l * d + j] = (c.data[l * d + j]! * w + sums[l * d + j]!) / counts[l]!
    }
    let inertia = 0
    for (const v of distances) inertia += v
    inertia /= batchSize
    ewa = ewa === undefined ? inertia : ewa * (1 - alpha) + inertia * alpha
    if (ewa < bestEwa) {
      bestEwa = ewa
      noImprovement = 0
    } else if (++noImprovement >= maxNoImprovement) {
      step++
      break
    }
  }
  const final = assign(x, c, xNorms)
  return { centers: c, labels: final.labels, inertia: final.distances.reduce((s, v) => s + v, 0), steps: step }
}
