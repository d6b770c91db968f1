/**
 * A float64 transcription of the objective (src/Objective.ts), written loop by loop from its
 * definition; the tests check the tensor-kernel objective against it and its finite differences.
 */
import type { ObjectiveBatch, ObjectiveOptions } from "../src/Objective.js"

/** Rows scaled to unit length, and the norms (floored so a zero row does not divide by zero). */
const normalizeRows = (x: ArrayLike<number>, rows: number, dim: number) => {
  const z = new Float64Array(rows * dim)
  const norms = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    let s = 0
    for (let k = 0; k < dim; k++) s += x[r * dim + k]! * x[r * dim + k]!
    const n = Math.max(Math.sqrt(s), 1e-12)
    norms[r] = n
    for (let k = 0; k < dim; k++) z[r * dim + k] = x[r * dim + k]! / n
  }
  return { z, norms }
}

/** dL/dx from dL/dz for z = x / |x|: (dz - z (z . dz)) / |x|, in place on `grad`. */
const backpropNormalize = (grad: Float64Array, z: Float64Array, norms: Float64Array, rows: number, dim: number) => {
  for (let r = 0; r < rows; r++) {
    let dot = 0
    for (let k = 0; k < dim; k++) dot += z[r * dim + k]! * grad[r * dim + k]!
    for (let k = 0; k < dim; k++) grad[r * dim + k] = (grad[r * dim + k]! - z[r * dim + k]! * dot) / norms[r]!
  }
}

/** Softmax of `logits` into `out` (max-shifted); returns log-sum-exp. */
const softmaxInto = (logits: Float64Array, out: Float64Array): number => {
  let max = -Infinity
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!
  let sum = 0
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max)
  for (let i = 0; i < logits.length; i++) out[i] = out[i]! / sum
  return max + Math.log(sum)
}

const dotRows = (a: Float64Array, i: number, b: Float64Array, j: number, dim: number) => {
  let s = 0
  for (let k = 0; k < dim; k++) s += a[i * dim + k]! * b[j * dim + k]!
  return s
}

const addScaledRow = (target: Float64Array, i: number, source: Float64Array, j: number, scale: number, dim: number) => {
  for (let k = 0; k < dim; k++) target[i * dim + k] = target[i * dim + k]! + scale * source[j * dim + k]!
}

export const objective64 = (batch: ObjectiveBatch, options: ObjectiveOptions) => {
  const { dim } = batch
  const nq = batch.offsets.length - 1
  const nc = batch.offsets[nq]!
  if (batch.queries.length !== nq * dim) throw new Error(`objective: ${batch.queries.length} query floats, expected ${nq}x${dim}`)
  if (batch.candidates.length !== nc * dim) throw new Error(`objective: ${batch.candidates.length} candidate floats, expected ${nc}x${dim}`)
  const q = normalizeRows(batch.queries, nq, dim)
  const c = normalizeRows(batch.candidates, nc, dim)
  const gq = new Float64Array(nq * dim)
  const gc = new Float64Array(nc * dim)

  // KL(p_t || p_s) = sum p_t (log p_t - log p_s); d/ds_j = (p_s - p_t)_j / tauStudent w.r.t. cosine j.
  let kl = 0
  for (let i = 0; i < nq; i++) {
    const start = batch.offsets[i]!
    const m = batch.offsets[i + 1]! - start
    const teacherLogits = new Float64Array(m)
    const studentLogits = new Float64Array(m)
    for (let j = 0; j < m; j++) {
      teacherLogits[j] = batch.rewards[start + j]! / options.tauTeacher
      studentLogits[j] = dotRows(q.z, i, c.z, start + j, dim) / options.tauStudent
    }
    const pt = new Float64Array(m)
    const ps = new Float64Array(m)
    const lseT = softmaxInto(teacherLogits, pt)
    const lseS = softmaxInto(studentLogits, ps)
    for (let j = 0; j < m; j++) {
      if (pt[j]! > 0) kl += (pt[j]! * (teacherLogits[j]! - lseT - (studentLogits[j]! - lseS))) / nq
      const dCos = (ps[j]! - pt[j]!) / options.tauStudent / nq
      addScaledRow(gq, i, c.z, start + j, dCos, dim)
      addScaledRow(gc, start + j, q.z, i, dCos, dim)
    }
  }

  let infoNce = 0
  if (options.alpha !== 0 && nq > 0) {
    // The columns of query i's softmax: every candidate (negatives "all"), or every query's positive.
    const all = (options.negatives ?? "all") === "all"
    for (let i = 0; i < nq; i++) {
      const columns = all ? Array.from({ length: nc }, (_, k) => k) : Array.from({ length: nq }, (_, j) => batch.positives[j]!)
      const own = batch.positives[i]!
      const logits = new Float64Array(columns.length)
      let target = -1
      columns.forEach((col, j) => {
        const id = all ? batch.candidateIds![col] : batch.positiveIds[j]
        const isOwn = all ? col === own : j === i
        if (isOwn) target = j
        logits[j] = !isOwn && id === batch.positiveIds[i] ? -Infinity : dotRows(q.z, i, c.z, col, dim) / options.tauContrastive
      })
      const p = new Float64Array(columns.length)
      const lse = softmaxInto(logits, p)
      infoNce += (lse - logits[target]!) / nq
      columns.forEach((col, j) => {
        const dCos = (options.alpha * (p[j]! - (j === target ? 1 : 0))) / options.tauContrastive / nq
        if (dCos === 0) return
        addScaledRow(gq, i, c.z, col, dCos, dim)
        addScaledRow(gc, col, q.z, i, dCos, dim)
      })
    }
  }

  backpropNormalize(gq, q.z, q.norms, nq, dim)
  backpropNormalize(gc, c.z, c.norms, nc, dim)
  return { loss: kl + options.alpha * infoNce, kl, infoNce, gradQueries: gq, gradCandidates: gc }
}
