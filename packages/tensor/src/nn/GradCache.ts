/**
 * GradCache (Gao et al. 2021): a contrastive loss over a large batch with the activation memory
 * of one chunk.
 *   1. embed every chunk without keeping activations (remembering each chunk's dropout Rng state);
 *   2. compute the loss and its gradient with respect to the (small) embedding matrices;
 *   3. per chunk, re-embed with activations kept (replaying the same dropout masks) and
 *      backpropagate that chunk's slice of the embedding gradient, then free it.
 * Parameter gradients equal those of the plain full-batch step (accumulated, not zeroed).
 */
import { concatRows, type Matrix, sliceRows } from "../Matrix.js"
import { cosineMatrix, cosineMatrixBackward } from "../Cosine.js"
import { infoNce } from "../InfoNce.js"
import { Rng } from "../Rng.js"
import { type ForwardContext } from "./Module.js"
import { type Embedder } from "./SentenceEmbedder.js"
import { sliceBatch, type TokenBatch } from "./TokenBatch.js"

export interface GradCacheOptions {
  /** Sequences per forward/backward chunk (bounds peak activation memory). */
  readonly chunkSize: number
  /** Dropout on (needs rng). */
  readonly train?: boolean
  readonly rng?: Rng
}

export interface GroupLoss {
  readonly loss: number
  /** d loss / d embeddings, one matrix per group, same shapes as the embeddings. */
  readonly grads: ReadonlyArray<Matrix>
}

/**
 * One cached step over several groups of sequences (e.g. queries and documents) embedded by the
 * same embedder; `loss` sees the full embedding matrices. Returns the loss; gradients accumulate
 * into the embedder's parameters.
 */
export const gradCachedStep = (
  embedder: Embedder,
  groups: ReadonlyArray<TokenBatch>,
  loss: (embeddings: ReadonlyArray<Matrix>) => GroupLoss,
  options: GradCacheOptions
): number => {
  const size = options.chunkSize
  if (!(Number.isInteger(size) && size > 0)) throw new RangeError(`gradCachedStep: chunkSize must be a positive integer, got ${size}`)
  const ctxOf = (rng: Rng | undefined, keep: boolean): ForwardContext => ({ keep, train: options.train, rng })
  const chunks = groups.map((g) => {
    const out: Array<{ batch: TokenBatch; start: number; end: number; rngState: Uint32Array | undefined }> = []
    for (let start = 0; start < g.batch; start += size) {
      const end = Math.min(g.batch, start + size)
      out.push({ batch: sliceBatch(g, start, end), start, end, rngState: undefined })
    }
    return out
  })
  const embeddings = chunks.map((cs) =>
    concatRows(cs.map((c) => {
      c.rngState = options.rng?.getState()
      return embedder.embed(c.batch, ctxOf(options.rng, false))
    }))
  )
  const result = loss(embeddings)
  if (result.grads.length !== groups.length) throw new RangeError(`gradCachedStep: loss returned ${result.grads.length} gradients for ${groups.length} groups`)
  chunks.forEach((cs, g) => {
    for (const c of cs) {
      const replay = c.rngState === undefined ? undefined : Rng.fromState(c.rngState)
      embedder.embed(c.batch, ctxOf(replay, true))
      embedder.backward(sliceRows(result.grads[g], c.start, c.end))
    }
  })
  return result.loss
}

export interface CachedInfoNceOptions extends GradCacheOptions {
  readonly temperature: number
}

/**
 * In-batch InfoNCE over cosine similarities of queries to documents (document i is query i's
 * positive; extra documents are further negatives), through gradCachedStep.
 */
export const cachedInfoNce = (embedder: Embedder, queries: TokenBatch, documents: TokenBatch, options: CachedInfoNceOptions): number =>
  gradCachedStep(
    embedder,
    [queries, documents],
    ([q, d]) => {
      const cos = cosineMatrix(q, d)
      const r = infoNce(cos.scores, { temperature: options.temperature })
      const { dA, dB } = cosineMatrixBackward(cos, r.grad)
      return { loss: r.loss, grads: [dA, dB] }
    },
    options
  )
