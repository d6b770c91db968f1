/**
 * Early stopping on a dev metric: tracks the best value (mode "max" or "min"), keeps a copy of the
 * parameters at the best evaluation, and says to stop once `patience` evaluations in a row brought no
 * improvement larger than `minDelta`.
 */
import { type Parameter } from "./Head.js"
import { assertFinite } from "./NonFinite.js"

export interface EarlyStoppingOptions {
  readonly patience: number
  readonly mode: "max" | "min"
  /** Improvements must exceed this (default 0). */
  readonly minDelta?: number
}

export class EarlyStopping {
  readonly patience: number
  readonly mode: "max" | "min"
  readonly minDelta: number
  private bestValue: number
  private bestIndex = -1
  private evaluations = 0
  private stale = 0
  private snapshot: Array<Float32Array> | undefined

  constructor(options: EarlyStoppingOptions) {
    if (!Number.isInteger(options.patience) || options.patience < 0) {
      throw new RangeError(`EarlyStopping: patience must be a non-negative integer, got ${options.patience}`)
    }
    if (options.mode !== "max" && options.mode !== "min") throw new RangeError(`EarlyStopping: mode must be "max" or "min", got "${String(options.mode)}"`)
    this.patience = options.patience
    this.mode = options.mode
    this.minDelta = options.minDelta ?? 0
    this.bestValue = options.mode === "max" ? -Infinity : Infinity
  }

  get best(): number {
    return this.bestValue
  }

  /** 0-based index of the best evaluation (-1 before the first). */
  get bestEvaluation(): number {
    return this.bestIndex
  }

  /** Records one evaluation; snapshots `params` when it improves. A NaN/Inf metric throws NonFiniteError. */
  update(metric: number, params: ReadonlyArray<Parameter>): { readonly improved: boolean; readonly shouldStop: boolean } {
    const index = this.evaluations++
    assertFinite(metric, index, "dev metric (evaluation index)")
    const improved = this.bestIndex < 0 ||
      (this.mode === "max" ? metric > this.bestValue + this.minDelta : metric < this.bestValue - this.minDelta)
    if (improved) {
      this.bestValue = metric
      this.bestIndex = index
      this.stale = 0
      this.snapshot = params.map((p) => p.value.slice())
    } else {
      this.stale++
    }
    return { improved, shouldStop: !improved && this.stale >= this.patience }
  }

  /** Copies the best snapshot back into `params` (the same list, in the same order, as given to update). */
  restoreBest(params: ReadonlyArray<Parameter>): void {
    const snap = this.snapshot
    if (snap === undefined) throw new Error("EarlyStopping.restoreBest: no evaluation recorded yet")
    if (snap.length !== params.length) throw new RangeError(`EarlyStopping.restoreBest: ${params.length} parameters given, snapshot has ${snap.length}`)
    params.forEach((p, i) => {
      if (p.value.length !== snap[i].length) throw new RangeError(`EarlyStopping.restoreBest: parameter "${p.name}" has ${p.value.length} values, snapshot has ${snap[i].length}`)
      p.value.set(snap[i])
    })
  }
}
