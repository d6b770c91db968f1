/**
 * A GPT-style decoder (GPT-2, OPT): token + learned position embeddings, N pre-LN causal layers
 *   h = h + dropout(O·attention(Q LN1(h), K LN1(h), V LN1(h)))     (causal + padding masks)
 *   h = h + dropout(W2·act(W1·LN2(h)))
 * a final LayerNorm, and an LM head tied to the token embeddings (logits = h·Eᵀ) or separate.
 * Parameters use OPT's module names (layers.{l}.self_attn.q_proj, fc1, ...); GPT-2's fused c_attn
 * is split into q/k/v on load and re-fused on export (see OnnxWeights.ts).
 * Position ids default to cumsum(attention mask) − 1 (0 on padding) plus `positionOffset` (OPT: 2).
 */
import { type Parameter } from "../Head.js"
import { type Matrix, matrix } from "../Matrix.js"
import { matmul, matmulABt, matmulAtB } from "../Matmul.js"
import { Rng } from "../Rng.js"
import { ActivationLayer, type ActivationKind } from "./Activation.js"
import { type AttentionShape, MultiHeadAttention } from "./Attention.js"
import { Dense } from "./Dense.js"
import { Dropout } from "./Dropout.js"
import { Embedding } from "./Embedding.js"
import { LayerNorm } from "./LayerNorm.js"
import { type LoraTargets } from "./Lora.js"
import { type ForwardContext, type Module } from "./Module.js"
import { accumulateInto, addResidual } from "./Residual.js"
import { checkBatch, type TokenBatch } from "./TokenBatch.js"

export interface DecoderConfig {
  readonly vocabSize: number
  readonly hiddenSize: number
  readonly numLayers: number
  readonly numHeads: number
  readonly intermediateSize: number
  /** Rows of the position table (OPT: max positions + offset). */
  readonly maxPositions: number
  readonly layerNormEps: number
  /** Default "gelu_tanh" (GPT-2's gelu_new); OPT uses "relu". */
  readonly activation?: ActivationKind
  /** LM head = token embeddings transposed (default true). */
  readonly tiedLmHead?: boolean
  /** Added to position ids (OPT's learned positional embedding offset is 2; default 0). */
  readonly positionOffset?: number
  /** resid/embd dropout (default 0). */
  readonly dropout?: number
  readonly attentionDropout?: number
}

class DecoderLayer implements Module {
  readonly attentionNorm: LayerNorm
  readonly query: Dense
  readonly key: Dense
  readonly value: Dense
  readonly attentionOutput: Dense
  readonly feedForwardNorm: LayerNorm
  readonly fc1: Dense
  readonly fc2: Dense
  readonly attention: MultiHeadAttention
  private readonly activation: ActivationLayer
  private readonly attentionDrop: Dropout
  private readonly feedForwardDrop: Dropout

  constructor(prefix: string, c: DecoderConfig) {
    const H = c.hiddenSize
    this.attentionNorm = new LayerNorm(`${prefix}.self_attn_layer_norm`, H, c.layerNormEps)
    this.query = new Dense(`${prefix}.self_attn.q_proj`, H, H)
    this.key = new Dense(`${prefix}.self_attn.k_proj`, H, H)
    this.value = new Dense(`${prefix}.self_attn.v_proj`, H, H)
    this.attention = new MultiHeadAttention(`${prefix}.self_attn`, H, c.numHeads, c.attentionDropout ?? 0)
    this.attentionOutput = new Dense(`${prefix}.self_attn.out_proj`, H, H)
    this.feedForwardNorm = new LayerNorm(`${prefix}.final_layer_norm`, H, c.layerNormEps)
    this.fc1 = new Dense(`${prefix}.fc1`, H, c.intermediateSize)
    this.activation = new ActivationLayer(c.activation ?? "gelu_tanh")
    this.fc2 = new Dense(`${prefix}.fc2`, c.intermediateSize, H)
    this.attentionDrop = new Dropout(c.dropout ?? 0)
    this.feedForwardDrop = new Dropout(c.dropout ?? 0)
  }

  modules(): Array<Dense | LayerNorm> {
    return [this.attentionNorm, this.query, this.key, this.value, this.attentionOutput, this.feedForwardNorm, this.fc1, this.fc2]
  }

  params(): Array<Parameter> {
    return this.modules().flatMap((m) => m.params())
  }

  forward(h: Matrix, shape: AttentionShape, padding: Uint8Array | undefined, ctx: ForwardContext): Matrix {
    const a = this.attentionNorm.forward(h, ctx)
    const context = this.attention.forward(this.query.forward(a, ctx), this.key.forward(a, ctx), this.value.forward(a, ctx), shape, { padding, causal: true }, ctx)
    const h1 = addResidual(h, this.attentionDrop.forward(this.attentionOutput.forward(context, ctx), ctx))
    const m = this.feedForwardNorm.forward(h1, ctx)
    return addResidual(h1, this.feedForwardDrop.forward(this.fc2.forward(this.activation.forward(this.fc1.forward(m, ctx), ctx), ctx), ctx))
  }

  backward(dOut: Matrix): Matrix {
    const dM = this.fc1.backward(this.activation.backward(this.fc2.backward(this.feedForwardDrop.backward(dOut))))
    const dH1 = accumulateInto(this.feedForwardNorm.backward(dM), dOut)
    const { dQ, dK, dV } = this.attention.backward(this.attentionOutput.backward(this.attentionDrop.backward(dH1)))
    const dA = this.query.backward(dQ)
    accumulateInto(dA, this.key.backward(dK))
    accumulateInto(dA, this.value.backward(dV))
    return accumulateInto(this.attentionNorm.backward(dA), dH1)
  }
}

export interface LanguageModelLoss {
  /** Mean next-token cross-entropy over predicted positions. */
  readonly loss: number
  readonly tokens: number
}

export class Gpt2Decoder implements Module, LoraTargets {
  readonly tokenEmbeddings: Embedding
  readonly positionEmbeddings: Embedding
  readonly layers: ReadonlyArray<DecoderLayer>
  readonly finalNorm: LayerNorm
  /** Separate LM head [hidden, vocab] when not tied. */
  readonly lmHead: Dense | undefined
  private readonly embeddingDrop: Dropout
  private last: { batch: TokenBatch; positions: Int32Array } | undefined
  private lastHidden: Matrix | undefined

  constructor(readonly config: DecoderConfig) {
    const H = config.hiddenSize
    this.tokenEmbeddings = new Embedding("embed_tokens", config.vocabSize, H)
    this.positionEmbeddings = new Embedding("embed_positions", config.maxPositions, H)
    this.embeddingDrop = new Dropout(config.dropout ?? 0)
    this.layers = Array.from({ length: config.numLayers }, (_, l) => new DecoderLayer(`layers.${l}`, config))
    this.finalNorm = new LayerNorm("final_layer_norm", H, config.layerNormEps)
    this.lmHead = config.tiedLmHead === false ? new Dense("lm_head", H, config.vocabSize, false) : undefined
  }

  static random(config: DecoderConfig, seed: number, std = 0.02): Gpt2Decoder {
    const model = new Gpt2Decoder(config)
    const rng = new Rng(seed)
    for (const p of model.params()) if (p.decay) rng.fillNormal(p.value, 0, std)
    return model
  }

  params(): Array<Parameter> {
    return [
      ...this.tokenEmbeddings.params(),
      ...this.positionEmbeddings.params(),
      ...this.layers.flatMap((l) => l.params()),
      ...this.finalNorm.params(),
      ...(this.lmHead?.params() ?? [])
    ]
  }

  allParams(): Array<Parameter> {
    return [
      this.tokenEmbeddings.weight, this.positionEmbeddings.weight,
      ...this.layers.flatMap((l) => l.modules().flatMap((m) => (m instanceof Dense ? [m.weight, ...(m.bias ? [m.bias] : [])] : [m.weight, m.bias]))),
      this.finalNorm.weight, this.finalNorm.bias,
      ...(this.lmHead ? [this.lmHead.weight] : [])
    ]
  }

  attentionProjections(): Array<Dense> {
    return this.layers.flatMap((l) => [l.query, l.key, l.value, l.attentionOutput])
  }
  feedForwardProjections(): Array<Dense> {
    return this.layers.flatMap((l) => [l.fc1, l.fc2])
  }
  freezeAll(): void {
    this.tokenEmbeddings.frozen = this.positionEmbeddings.frozen = true
    this.finalNorm.frozen = true
    if (this.lmHead) this.lmHead.frozen = true
    for (const l of this.layers) for (const m of l.modules()) m.frozen = true
  }

  /** Default position ids: cumsum(mask) − 1, 0 on padding, plus the offset. */
  positionsOf(batch: TokenBatch): Int32Array {
    const { batch: B, seqLen: S } = batch
    const offset = this.config.positionOffset ?? 0
    if (batch.positionIds) return offset === 0 ? batch.positionIds : batch.positionIds.map((p) => p + offset)
    const out = new Int32Array(B * S)
    for (let b = 0; b < B; b++) {
      let seen = 0
      for (let s = 0; s < S; s++) {
        const real = batch.attentionMask === undefined || batch.attentionMask[b * S + s] !== 0
        if (real) seen++
        out[b * S + s] = (real ? seen - 1 : 0) + offset
      }
    }
    return out
  }

  /** Hidden states after the final LayerNorm [batch·seq, hidden] (GPT2Model's last_hidden_state). */
  forward(batch: TokenBatch, ctx: ForwardContext = {}): Matrix {
    checkBatch(batch, "Gpt2Decoder")
    const shape = { batch: batch.batch, seqLen: batch.seqLen }
    const positions = this.positionsOf(batch)
    const e = this.tokenEmbeddings.forward(batch.inputIds)
    this.positionEmbeddings.forward(positions, e)
    let h = this.embeddingDrop.forward(e, ctx)
    for (const layer of this.layers) h = layer.forward(h, shape, batch.attentionMask, ctx)
    if (ctx.keep) this.last = { batch, positions }
    return this.finalNorm.forward(h, ctx)
  }

  backward(dHidden: Matrix): void {
    const last = this.last
    if (last === undefined) throw new Error("Gpt2Decoder.backward: call forward with { keep: true } first")
    this.last = undefined
    let d = this.finalNorm.backward(dHidden)
    for (let l = this.layers.length - 1; l >= 0; l--) d = this.layers[l].backward(d)
    d = this.embeddingDrop.backward(d)
    this.tokenEmbeddings.backward(last.batch.inputIds, d)
    this.positionEmbeddings.backward(last.positions, d)
  }

  /** Next-token logits [rows, vocab] of hidden states. */
  logits(hidden: Matrix, ctx: ForwardContext = {}): Matrix {
    if (this.lmHead) return this.lmHead.forward(hidden, ctx)
    if (ctx.keep) this.lastHidden = hidden
    return matmulABt(hidden, { rows: this.config.vocabSize, cols: this.config.hiddenSize, data: this.tokenEmbeddings.weight.value })
  }

  /** Gradient of the hidden states from d(logits); accumulates the LM head's (or tied embeddings') gradient. */
  logitsBackward(dLogits: Matrix): Matrix {
    if (this.lmHead) return this.lmHead.backward(dLogits)
    const hidden = this.lastHidden
    if (hidden === undefined) throw new Error("Gpt2Decoder.logitsBackward: call logits with { keep: true } first")
    this.lastHidden = undefined
    const E: Matrix = { rows: this.config.vocabSize, cols: this.config.hiddenSize, data: this.tokenEmbeddings.weight.value }
    if (!this.tokenEmbeddings.frozen) {
      matmulAtB(dLogits, hidden, { out: { ...E, data: this.tokenEmbeddings.weight.grad }, accumulate: true })
    }
    return matmul(dLogits, E)
  }

  /**
   * Causal LM loss: mean cross-entropy of token t+1 given tokens ≤ t, over pairs where both are
   * real tokens. With `backward` the gradients of every trainable parameter are accumulated.
   * `targetMask` ([batch·seq], 1 = scored) restricts the loss to chosen target tokens — e.g. only
   * the answer tokens of a QA example; a pair counts when `targetMask[t + 1]` is non-zero.
   */
  languageModelLoss(batch: TokenBatch, ctx: ForwardContext = {}, backward = false, targetMask?: Uint8Array): LanguageModelLoss {
    const keep = backward || !!ctx.keep
    const hidden = this.forward(batch, { ...ctx, keep })
    const logits = this.logits(hidden, { ...ctx, keep })
    const { batch: B, seqLen: S } = batch
    const V = this.config.vocabSize
    if (targetMask !== undefined && targetMask.length !== B * S) {
      throw new RangeError(`languageModelLoss: targetMask has ${targetMask.length} entries, expected batch·seq = ${B * S}`)
    }
    const real = (t: number) => batch.attentionMask === undefined || batch.attentionMask[t] !== 0
    const scored = (t: number) => real(t) && real(t + 1) && (targetMask === undefined || targetMask[t + 1] !== 0)
    let count = 0
    for (let b = 0; b < B; b++) for (let s = 0; s + 1 < S; s++) if (scored(b * S + s)) count++
    if (count === 0) throw new RangeError("languageModelLoss: no scored (token, next token) pair in the batch")
    const dLogits = backward ? matrix(B * S, V) : undefined
    let loss = 0
    for (let b = 0; b < B; b++) {
      for (let s = 0; s + 1 < S; s++) {
        const t = b * S + s
        if (!scored(t)) continue
        const o = t * V, target = batch.inputIds[t + 1]
        let max = -Infinity
        for (let j = 0; j < V; j++) if (logits.data[o + j] > max) max = logits.data[o + j]
        let sum = 0
        for (let j = 0; j < V; j++) sum += Math.exp(logits.data[o + j] - max)
        const logZ = max + Math.log(sum)
        loss += logZ - logits.data[o + target]
        if (dLogits) {
          for (let j = 0; j < V; j++) dLogits.data[o + j] = Math.exp(logits.data[o + j] - logZ) / count
          dLogits.data[o + target] -= 1 / count
        }
      }
    }
    if (dLogits) this.backward(this.logitsBackward(dLogits))
    return { loss: loss / count, tokens: count }
  }
}
