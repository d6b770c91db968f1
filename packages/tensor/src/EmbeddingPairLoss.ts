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
import { infoNce } from "./InfoNce.js"
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

/**
 * Masked InfoNCE over embedded rows: S = cos(anchors, candidates), anchor i's positive is candidate
 * i, `mask` (anchors x candidates bytes) leaves false negatives out of a row's denominator. The loss
 * every contrastive stage trains with (contrastive-trainer, and embeddingPairLoss over a head).
 */
export interface PairInfoNce {
  readonly loss: number
  /** In-batch top-1 accuracy (anchor's positive ranked first among unmasked candidates). */
  readonly accuracy: number
  /** Cosine similarities, anchors x candidates. */
  readonly scores: Matrix
  /** d(loss)/d(anchors) and d(loss)/d(candidates), through the L2 normalisations. */
  backward(): { readonly dAnchors: Matrix; readonly dCandidates: Matrix }
}

export const pairInfoNce = (anchors: Matrix, candidates: Matrix, options: { readonly temperature: number; readonly mask?: Uint8Array | undefined }): PairInfoNce => {
  if (candidates.rows < anchors.rows) {
    throw new RangeError(`pairInfoNce: ${candidates.rows} candidates for ${anchors.rows} anchors; candidate i must be anchor i's positive`)
  }
  const cos = cosineMatrix(anchors, candidates)
  const result = infoNce(cos.scores, options.mask === undefined ? { temperature: options.temperature } : { temperature: options.temperature, mask: options.mask })
  return {
    loss: result.loss,
    accuracy: result.accuracy,
    scores: cos.scores,
    backward: () => {
      const { dA, dB } = cosineMatrixBackward(cos, result.grad)
      return { dAnchors: dA, dCandidates: dB }
    }
  }
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
  const loss = pairInfoNce(sliceRows(y, 0, n), sliceRows(y, n, y.rows), { temperature: options.temperature, mask: batch.mask })
  let done = false
  return {
    loss: loss.loss,
    accuracy: loss.accuracy,
    scores: loss.scores,
    backward: () => {
      if (done) throw new Error("embeddingPairLoss: backward() already called for this step")
      done = true
      const { dAnchors, dCandidates } = loss.backward()
      const dY = matrix(y.rows, y.cols)
      dY.data.set(dAnchors.data, 0)
      dY.data.set(dCandidates.data, dAnchors.data.length)
      head.backward(dY)
    }
  }
}
