import * as PortType from "./PortType.js"
import { Schema } from "effect"

/**
 * One training batch with its false-negative mask. The candidates of every anchor are the batch's
 * positives (column j < anchors.length is anchor j's positive) followed by its hard negatives
 * (column anchors.length + k is negatives[k], the hard negative of anchor negativeOwners[k]).
 * Bit i * cols + j of `mask` set means: candidate j is left out of anchor i's InfoNCE denominator.
 */
export const MaskedBatch = Schema.Struct({
  index: Schema.Int,
  anchors: Schema.Array(Schema.String),
  positives: Schema.Array(Schema.String),
  negatives: Schema.Array(Schema.String),
  negativeOwners: Schema.Array(Schema.Int),
  /** Row-major [anchors x (positives + negatives)] bits, LSB first in each byte, base64. */
  mask: Schema.String,
  /** How many bits are set. */
  masked: Schema.Int
})
export type MaskedBatch = typeof MaskedBatch.Type

export const MaskedBatches = PortType.records(
  "MaskedBatches",
  MaskedBatch,
  "training batches (anchor, positive, hard-negative texts) with a packed mask of in-batch false negatives"
)

/** Candidate columns of a batch: its positives, then its hard negatives. */
export const candidateColumns = (batch: Pick<MaskedBatch, "positives" | "negatives">): number => batch.positives.length + batch.negatives.length

/** Packs 0/1 bytes into base64 bits. */
export const packMask = (bits: Uint8Array): string => {
  const bytes = new Uint8Array(Math.ceil(bits.length / 8))
  for (let k = 0; k < bits.length; k++) if (bits[k]) bytes[k >> 3]! |= 1 << (k & 7)
  return Buffer.from(bytes).toString("base64")
}

/** The mask of a batch as rows x cols bytes (1 = excluded), checking its size. */
export const unpackMask = (batch: MaskedBatch): Uint8Array => {
  const rows = batch.anchors.length
  const cols = candidateColumns(batch)
  const bytes = Buffer.from(batch.mask, "base64")
  if (bytes.length !== Math.ceil((rows * cols) / 8)) {
    throw new RangeError(`batch ${batch.index}: mask has ${bytes.length} bytes, expected ceil(${rows} x ${cols} / 8) = ${Math.ceil((rows * cols) / 8)}`)
  }
  const bits = new Uint8Array(rows * cols)
  for (let k = 0; k < bits.length; k++) bits[k] = (bytes[k >> 3]! >> (k & 7)) & 1
  return bits
}
