/**
 * KL(teacher ‖ student) between per-example score distributions (LLM-R style distillation):
 *
 *   p_t = softmax(T[i]/τ_t), p_s = softmax(S[i]/τ_s),  L = (1/n) Σ_i Σ_j p_t(j) (log p_t(j) − log p_s(j))
 *
 * Gradient wrt the student scores: dS[i,j] = (p_s(j) − p_t(j)) / (n τ_s). Masked entries (padding of
 * shorter candidate lists) are excluded from both distributions.
 */
import { type LossResult } from "./Loss.js"
import { type Matrix, matrix } from "./Matrix.js"
import { checkMask, checkTemperature } from "./internal/checks.js"
import { logSoftmaxRow } from "./internal/logSoftmaxRow.js"

export interface KlDivergenceOptions {
  /** τ_s (default 1). */
  readonly studentTemperature?: number
  /** τ_t (default 1). */
  readonly teacherTemperature?: number
  readonly mask?: Uint8Array
}

export const klDivergence = (student: Matrix, teacher: Matrix, options: KlDivergenceOptions = {}): LossResult => {
  const { rows: n, cols: m } = student
  if (teacher.rows !== n || teacher.cols !== m) {
    throw new RangeError(`klDivergence: teacher is ${teacher.rows} x ${teacher.cols}, expected ${n} x ${m} like the student`)
  }
  if (n === 0) throw new RangeError("klDivergence: no rows")
  const ts = options.studentTemperature ?? 1
  const tt = options.teacherTemperature ?? 1
  checkTemperature(ts, "klDivergence studentTemperature")
  checkTemperature(tt, "klDivergence teacherTemperature")
  checkMask(student, options.mask, "klDivergence")
  const grad = matrix(n, m)
  const ls = new Float64Array(m), lt = new Float64Array(m)
  let loss = 0
  for (let i = 0; i < n; i++) {
    const o = i * m
    logSoftmaxRow(student.data, o, m, ts, options.mask, o, ls, 0, i)
    logSoftmaxRow(teacher.data, o, m, tt, options.mask, o, lt, 0, i)
    for (let j = 0; j < m; j++) {
      if (lt[j] === -Infinity) continue
      const pt = Math.exp(lt[j])
      if (pt > 0) loss += pt * (lt[j] - ls[j])
      grad.data[o + j] = (Math.exp(ls[j]) - pt) / (n * ts)
    }
  }
  return { loss: loss / n, grad }
}
