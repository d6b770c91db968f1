import { Ports, type StageFailure } from "@embedflow/core"
import { cosineMatrix, matrix, Rng } from "@embedflow/tensor"
import { Effect } from "effect"
import { maskFalseNegatives, type MaskOptions } from "./MaskRule.js"

type MaskedBatch = Ports.MaskedBatch

export interface BatchOptions {
  readonly batchSize: number
  readonly seed: number
  /** Leave out a last batch smaller than batchSize. */
  readonly dropLast: boolean
}

/** Seeded shuffle of the triples into consecutive batches. */
export const makeBatches = <T>(items: ReadonlyArray<T>, options: BatchOptions): Array<Array<T>> => {
  if (!(options.batchSize >= 1)) throw new RangeError(`batchSize must be >= 1, got ${options.batchSize}`)
  const order = new Rng(options.seed).permutation(items.length)
  const batches: Array<Array<T>> = []
  for (let s = 0; s < items.length; s += options.batchSize) {
    if (options.dropLast && s + options.batchSize > items.length) break
    batches.push(Array.from(order.subarray(s, s + options.batchSize), (k) => items[k]!))
  }
  return batches
}

/** The texts of a batch in mask-column order. */
export const batchTexts = (batch: ReadonlyArray<Ports.Triple>) => {
  const negatives: Array<string> = []
  const negativeOwners: Array<number> = []
  batch.forEach((t, i) => {
    if (t.negative !== undefined) {
      negatives.push(t.negative)
      negativeOwners.push(i)
    }
  })
  return { anchors: batch.map((t) => t.anchor), positives: batch.map((t) => t.positive), negatives, negativeOwners }
}

export interface MaskReport {
  readonly batches: number
  readonly triples: number
  /** Anchor-candidate pairs that could be masked (every pair but anchor-own positive). */
  readonly candidates: number
  readonly masked: number
  readonly maskRate: number
  /** Masked pairs where the candidate was the anchor's own hard negative. */
  readonly ownNegativesMasked: number
  readonly options: MaskOptions
}

export interface MaskBatchesOptions extends BatchOptions, MaskOptions {
  /** Teacher embeddings of distinct texts, row-major [texts x dim]. */
  readonly embed: (texts: ReadonlyArray<string>) => Effect.Effect<Float32Array, StageFailure>
  readonly onBatch?: ((batch: MaskedBatch, rate: number) => Effect.Effect<void>) | undefined
}

/**
 * Batches the triples and masks each batch's false negatives by the teacher's similarities. The
 * teacher embeds each distinct text once (texts repeat across anchors, positives and negatives).
 */
export const maskBatches = (
  triples: ReadonlyArray<Ports.Triple>,
  options: MaskBatchesOptions
): Effect.Effect<{ batches: Array<MaskedBatch>; report: MaskReport }, StageFailure> =>
  Effect.gen(function* () {
    const batches = makeBatches(triples, options).map(batchTexts)
    const row = new Map<string, number>()
    for (const b of batches) for (const t of [...b.anchors, ...b.positives, ...b.negatives]) if (!row.has(t)) row.set(t, row.size)
    const needsTeacher = options.mode !== "none"
    const distinct = [...row.keys()]
    const vectors = needsTeacher ? yield* options.embed(distinct) : new Float32Array(0)
    const dim = needsTeacher && distinct.length > 0 ? vectors.length / distinct.length : 0
    if (needsTeacher && distinct.length > 0 && !Number.isInteger(dim)) {
      return yield* Effect.die(new RangeError(`teacher returned ${vectors.length} floats for ${distinct.length} texts`))
    }
    const gather = (texts: ReadonlyArray<string>) => {
      const m = new Float32Array(texts.length * dim)
      texts.forEach((t, i) => m.set(vectors.subarray(row.get(t)! * dim, (row.get(t)! + 1) * dim), i * dim))
      return m
    }
    const out: Array<MaskedBatch> = []
    let candidates = 0
    let masked = 0
    let ownNegativesMasked = 0
    for (const [index, b] of batches.entries()) {
      const rows = b.anchors.length
      const cols = rows + b.negatives.length
      const sim = needsTeacher
        ? cosineMatrix(matrix(rows, dim, gather(b.anchors)), matrix(cols, dim, gather([...b.positives, ...b.negatives]))).scores.data
        : new Float32Array(rows * cols)
      const bits = maskFalseNegatives(sim, rows, cols, options)
      let count = 0
      for (let k = 0; k < bits.length; k++) count += bits[k]!
      b.negativeOwners.forEach((owner, k) => (ownNegativesMasked += bits[owner * cols + rows + k]!))
      const batch: MaskedBatch = { index, ...b, mask: Ports.packMask(bits), masked: count }
      out.push(batch)
      candidates += rows * (cols - 1)
      masked += count
      if (options.onBatch) yield* options.onBatch(batch, rows * (cols - 1) === 0 ? 0 : count / (rows * (cols - 1)))
    }
    const { mode, threshold, margin } = options
    return {
      batches: out,
      report: {
        batches: out.length,
        triples: out.reduce((s, b) => s + b.anchors.length, 0),
        candidates,
        masked,
        maskRate: candidates === 0 ? 0 : masked / candidates,
        ownNegativesMasked,
        options: { mode, threshold, margin }
      }
    }
  })
