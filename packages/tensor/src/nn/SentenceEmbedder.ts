/**
 * Sentence embeddings from a token encoder: pool the last hidden states (mean / CLS / last token)
 * and optionally L2-normalise, with backward through both into the encoder.
 */
import { type Parameter } from "../Head.js"
import { type Matrix } from "../Matrix.js"
import { type L2Normalized, l2Normalize, l2NormalizeBackward } from "../Normalize.js"
import { type ForwardContext, type Module } from "./Module.js"
import { Pooling, type PoolingKind } from "./Pooling.js"
import { type TokenBatch } from "./TokenBatch.js"

/** What BertEncoder and Gpt2Decoder share: token states out, their gradient back in. */
export interface TokenEncoder extends Module {
  forward(batch: TokenBatch, ctx?: ForwardContext): Matrix
  backward(dHidden: Matrix): void
}

/** Anything that maps a token batch to one vector per sequence and can backpropagate it. */
export interface Embedder extends Module {
  embed(batch: TokenBatch, ctx?: ForwardContext): Matrix
  backward(dEmbeddings: Matrix): void
}

export interface SentenceEmbedderOptions {
  readonly pooling: PoolingKind
  /** L2-normalise the pooled vectors (default true). */
  readonly normalize?: boolean
}

export class SentenceEmbedder implements Embedder {
  private readonly pooling: Pooling
  private readonly normalize: boolean
  private normalized: L2Normalized | undefined

  constructor(readonly encoder: TokenEncoder, options: SentenceEmbedderOptions) {
    this.pooling = new Pooling(options.pooling)
    this.normalize = options.normalize ?? true
  }

  params(): Array<Parameter> {
    return this.encoder.params()
  }

  embed(batch: TokenBatch, ctx: ForwardContext = {}): Matrix {
    const hidden = this.encoder.forward(batch, ctx)
    const pooled = this.pooling.forward(hidden, { batch: batch.batch, seqLen: batch.seqLen }, batch.attentionMask, ctx)
    if (!this.normalize) return pooled
    const n = l2Normalize(pooled)
    if (ctx.keep) this.normalized = n
    return n.y
  }

  backward(dEmbeddings: Matrix): void {
    let d = dEmbeddings
    if (this.normalize) {
      const n = this.normalized
      if (n === undefined) throw new Error("SentenceEmbedder.backward: call embed with { keep: true } first")
      this.normalized = undefined
      d = l2NormalizeBackward(n, d)
    }
    this.encoder.backward(this.pooling.backward(d))
  }
}
