/**
 * The contrastive training path on cached embeddings:
 *
 *   [anchors; positives; negatives] -> head -> L2 normalise -> S = cos(anchors, positives ++ negatives)
 *   -> InfoNCE(S / τ, mask)
 *
 * Anchor i's positive is positives row i (column i of S); negatives (hard negatives, any count) are
 * extra columns shared by every anchor. One head forward over the stacked batch, so one backward
 * accumulates every gradient into the head's parameters.
 */
import { cosineMatrix, cosineMatrixBackward } from "./Cosine.js"
import { type Head } from "./Head.js"
import { infoNce, symmetricInfoNce } from "./InfoNce.js"
import { concatRows, type Matrix, matrix, sliceRows } from "./Matrix.js"

export interface EmbeddingPairBatch {
  /** n x inputDim */
  readonly anchors: Matrix
  /** n x inputDim; row i is the positive of anchor i. */
  readonly positives: Matrix
  /** h x inputDim, optional extra negatives for every anchor. */
  readonly negatives?: Matrix
  /** n x (n + h) bytes; non-zero excludes that candidate from the anchor's denominator (false negatives). */
  readonly mask?: Uint8Array
}

export interface EmbeddingPairOptions {
  readonly temperature: number
  /** Also the candidate -> anchor direction over the positives (default false). */
  readonly symmetric?: boolean
}

export interface EmbeddingPairStep {
  readonly loss: number
  /** In-batch top-1 accuracy (anchor's positive ranked first among unmasked candidates). */
  readonly accuracy: number
  /** Cosine similarities, n x (n + h). */
  readonly scores: Matrix
  /** Propagates the loss gradient into the head's parameter grads (accumulating). Call at most once. */
  backward(): void
}

/** Forward pass of the loss; call `backward()` on the result to accumulate gradients into `head`. */
export const embeddingPairLoss = (head: Head, batch: EmbeddingPairBatch, options: EmbeddingPairOptions): EmbeddingPairStep => {
  const n = batch.anchors.rows
  if (batch.positives.rows !== n) {
    throw new RangeError(`embeddingPairLoss: ${batch.positives.rows} positives for ${n} anchors; they must pair up row by row`)
  }
  const h = batch.negatives?.rows ?? 0
  if (batch.mask !== undefined && batch.mask.length !== n * (n + h)) {
    throw new RangeError(`embeddingPairLoss: mask has ${batch.mask.length} entries, expected anchors x (positives + negatives) = ${n} x ${n + h}`)
  }
  const stacked = concatRows(batch.negatives ? [batch.anchors, batch.positives, batch.negatives] : [batch.anchors, batch.positives])
  const y = head.forward(stacked)
  const cos = cosineMatrix(sliceRows(y, 0, n), sliceRows(y, n, y.rows))
  const result = (options.symmetric ? symmetricInfoNce : infoNce)(cos.scores, { temperature: options.temperature, mask: batch.mask })
  let done = false
  return {
    loss: result.loss,
    accuracy: result.accuracy,
    scores: cos.scores,
    backward: () => {
      if (done) throw new Error("embeddingPairLoss: backward() already called for this step")
      done = true
      const { dA, dB } = cosineMatrixBackward(cos, result.grad)
      const dY = matrix(y.rows, y.cols)
      dY.data.set(dA.data, 0)
      dY.data.set(dB.data, dA.data.length)
      head.backward(dY)
    }
  }
}
