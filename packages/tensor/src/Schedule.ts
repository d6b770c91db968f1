/**
 * Learning-rate schedule: linear warmup to `peakLr` over `warmupSteps`, then linear or cosine decay
 * to `minLr` at `totalSteps` (constant afterwards). Steps are 0-based; warmup step s uses
 * peak·(s+1)/warmup so the first update is not wasted at lr 0.
 */
export interface ScheduleOptions {
  readonly peakLr: number
  readonly totalSteps: number
  readonly warmupSteps?: number
  /** Default "linear". */
  readonly decay?: "linear" | "cosine" | "constant"
  /** Default 0. */
  readonly minLr?: number
}

export const learningRateSchedule = (options: ScheduleOptions): ((step: number) => number) => {
  const { peakLr, totalSteps } = options
  const warmup = options.warmupSteps ?? 0
  const minLr = options.minLr ?? 0
  const decay = options.decay ?? "linear"
  if (!(peakLr >= 0)) throw new RangeError(`learningRateSchedule: peakLr must be ≥ 0, got ${peakLr}`)
  if (!Number.isInteger(totalSteps) || totalSteps <= 0) throw new RangeError(`learningRateSchedule: totalSteps must be a positive integer, got ${totalSteps}`)
  if (!Number.isInteger(warmup) || warmup < 0 || warmup > totalSteps) {
    throw new RangeError(`learningRateSchedule: warmupSteps must be an integer in 0..totalSteps (${totalSteps}), got ${warmup}`)
  }
  if (!(minLr >= 0 && minLr <= peakLr)) throw new RangeError(`learningRateSchedule: minLr must be in 0..peakLr, got ${minLr}`)
  if (decay !== "linear" && decay !== "cosine" && decay !== "constant") {
    throw new RangeError(`learningRateSchedule: decay must be "linear", "cosine" or "constant", got "${String(decay)}"`)
  }
  return (step: number): number => {
    if (!Number.isInteger(step) || step < 0) throw new RangeError(`learningRateSchedule: step must be a non-negative integer, got ${step}`)
    if (step < warmup) return (peakLr * (step + 1)) / warmup
    if (decay === "constant") return peakLr
    const span = totalSteps - warmup
    const progress = span === 0 ? 1 : Math.min(1, (step - warmup) / span)
    const f = decay === "linear" ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress))
    return minLr + (peakLr - minLr) * f
  }
}
