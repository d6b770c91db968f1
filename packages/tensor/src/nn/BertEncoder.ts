/**
 * A BERT-style encoder (BERT, MiniLM, E5, BGE: Hugging Face BertModel without the pooler):
 * embeddings = LayerNorm(word[id] + position[s] + token_type[t]), then N post-LN layers
 *   h = LN(h + dropout(O·attention(Q h, K h, V h)))
 *   h = LN(h + dropout(W2·act(W1·h)))
 * Parameters are named as BertModel's (encoder.layer.{l}.attention.self.query.weight, ...), with
 * dense weights stored [in, out]. forward returns last_hidden_state [batch·seq, hidden].
 */
import { type Parameter } from "../Head.js"
import { type Matrix } from "../Matrix.js"
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

export interface BertConfig {
  readonly vocabSize: number
  readonly hiddenSize: number
  readonly numLayers: number
  readonly numHeads: number
  readonly intermediateSize: number
  readonly maxPositions: number
  readonly typeVocabSize: number
  readonly layerNormEps: number
  /** Default "gelu" (erf form, BERT's hidden_act). */
  readonly activation?: ActivationKind
  /** hidden_dropout_prob (default 0). */
  readonly hiddenDropout?: number
  /** attention_probs_dropout_prob (default 0). */
  readonly attentionDropout?: number
}

class BertLayer implements Module {
  readonly query: Dense
  readonly key: Dense
  readonly value: Dense
  readonly attentionOutput: Dense
  readonly attentionNorm: LayerNorm
  readonly intermediate: Dense
  readonly output: Dense
  readonly outputNorm: LayerNorm
  readonly attention: MultiHeadAttention
  private readonly activation: ActivationLayer
  private readonly attentionDrop: Dropout
  private readonly outputDrop: Dropout

  constructor(prefix: string, c: BertConfig) {
    const H = c.hiddenSize
    this.query = new Dense(`${prefix}.attention.self.query`, H, H)
    this.key = new Dense(`${prefix}.attention.self.key`, H, H)
    this.value = new Dense(`${prefix}.attention.self.value`, H, H)
    this.attention = new MultiHeadAttention(`${prefix}.attention.self`, H, c.numHeads, c.attentionDropout ?? 0)
    this.attentionOutput = new Dense(`${prefix}.attention.output.dense`, H, H)
    this.attentionNorm = new LayerNorm(`${prefix}.attention.output.LayerNorm`, H, c.layerNormEps)
    this.intermediate = new Dense(`${prefix}.intermediate.dense`, H, c.intermediateSize)
    this.activation = new ActivationLayer(c.activation ?? "gelu")
    this.output = new Dense(`${prefix}.output.dense`, c.intermediateSize, H)
    this.outputNorm = new LayerNorm(`${prefix}.output.LayerNorm`, H, c.layerNormEps)
    this.attentionDrop = new Dropout(c.hiddenDropout ?? 0)
    this.outputDrop = new Dropout(c.hiddenDropout ?? 0)
  }

  modules(): Array<Dense | LayerNorm> {
    return [this.query, this.key, this.value, this.attentionOutput, this.attentionNorm, this.intermediate, this.output, this.outputNorm]
  }

  params(): Array<Parameter> {
    return this.modules().flatMap((m) => m.params())
  }

  forward(h: Matrix, shape: AttentionShape, padding: Uint8Array | undefined, ctx: ForwardContext): Matrix {
    const context = this.attention.forward(this.query.forward(h, ctx), this.key.forward(h, ctx), this.value.forward(h, ctx), shape, { padding, causal: false }, ctx)
    const attended = this.attentionDrop.forward(this.attentionOutput.forward(context, ctx), ctx)
    const h1 = this.attentionNorm.forward(addResidual(attended, h), ctx)
    const ff = this.outputDrop.forward(this.output.forward(this.activation.forward(this.intermediate.forward(h1, ctx), ctx), ctx), ctx)
    return this.outputNorm.forward(addResidual(ff, h1), ctx)
  }

  backward(dOut: Matrix): Matrix {
    const dSum2 = this.outputNorm.backward(dOut)
    const dH1 = this.intermediate.backward(this.activation.backward(this.output.backward(this.outputDrop.backward(dSum2))))
    accumulateInto(dH1, dSum2)
    const dSum1 = this.attentionNorm.backward(dH1)
    const { dQ, dK, dV } = this.attention.backward(this.attentionOutput.backward(this.attentionDrop.backward(dSum1)))
    const dH = this.query.backward(dQ)
    accumulateInto(dH, this.key.backward(dK))
    accumulateInto(dH, this.value.backward(dV))
    return accumulateInto(dH, dSum1)
  }
}

export class BertEncoder implements Module, LoraTargets {
  readonly wordEmbeddings: Embedding
  readonly positionEmbeddings: Embedding
  readonly tokenTypeEmbeddings: Embedding
  readonly embeddingNorm: LayerNorm
  readonly layers: ReadonlyArray<BertLayer>
  private readonly embeddingDrop: Dropout
  private last: { batch: TokenBatch; positions: Int32Array; types: Int32Array } | undefined

  constructor(readonly config: BertConfig) {
    const H = config.hiddenSize
    this.wordEmbeddings = new Embedding("embeddings.word_embeddings", config.vocabSize, H)
    this.positionEmbeddings = new Embedding("embeddings.position_embeddings", config.maxPositions, H)
    this.tokenTypeEmbeddings = new Embedding("embeddings.token_type_embeddings", config.typeVocabSize, H)
    this.embeddingNorm = new LayerNorm("embeddings.LayerNorm", H, config.layerNormEps)
    this.embeddingDrop = new Dropout(config.hiddenDropout ?? 0)
    this.layers = Array.from({ length: config.numLayers }, (_, l) => new BertLayer(`encoder.layer.${l}`, config))
  }

  /** BERT-style random initialisation (normal(0, std) weights, zero biases, unit LayerNorm), seeded. */
  static random(config: BertConfig, seed: number, std = 0.02): BertEncoder {
    const model = new BertEncoder(config)
    const rng = new Rng(seed)
    for (const p of model.params()) if (p.decay) rng.fillNormal(p.value, 0, std)
    return model
  }

  params(): Array<Parameter> {
    return [
      ...this.wordEmbeddings.params(),
      ...this.positionEmbeddings.params(),
      ...this.tokenTypeEmbeddings.params(),
      ...this.embeddingNorm.params(),
      ...this.layers.flatMap((l) => l.params())
    ]
  }

  /** Every parameter, trainable or frozen (what ONNX export writes). */
  allParams(): Array<Parameter> {
    return [
      this.wordEmbeddings.weight, this.positionEmbeddings.weight, this.tokenTypeEmbeddings.weight,
      this.embeddingNorm.weight, this.embeddingNorm.bias,
      ...this.layers.flatMap((l) => l.modules().flatMap((m) => (m instanceof Dense ? [m.weight, ...(m.bias ? [m.bias] : [])] : [m.weight, m.bias])))
    ]
  }

  attentionProjections(): Array<Dense> {
    return this.layers.flatMap((l) => [l.query, l.key, l.value, l.attentionOutput])
  }
  feedForwardProjections(): Array<Dense> {
    return this.layers.flatMap((l) => [l.intermediate, l.output])
  }
  freezeAll(): void {
    for (const e of [this.wordEmbeddings, this.positionEmbeddings, this.tokenTypeEmbeddings]) e.frozen = true
    this.embeddingNorm.frozen = true
    for (const l of this.layers) for (const m of l.modules()) m.frozen = true
  }

  forward(batch: TokenBatch, ctx: ForwardContext = {}): Matrix {
    checkBatch(batch, "BertEncoder")
    const { batch: B, seqLen: S } = batch
    if (S > this.config.maxPositions) throw new RangeError(`BertEncoder: sequence length ${S} exceeds max_position_embeddings ${this.config.maxPositions}`)
    const positions = batch.positionIds ?? Int32Array.from({ length: B * S }, (_, t) => t % S)
    const types = batch.tokenTypeIds ?? new Int32Array(B * S)
    const e = this.wordEmbeddings.forward(batch.inputIds)
    this.positionEmbeddings.forward(positions, e)
    this.tokenTypeEmbeddings.forward(types, e)
    let h = this.embeddingDrop.forward(this.embeddingNorm.forward(e, ctx), ctx)
    const shape = { batch: B, seqLen: S }
    for (const layer of this.layers) h = layer.forward(h, shape, batch.attentionMask, ctx)
    if (ctx.keep) this.last = { batch, positions, types }
    return h
  }

  /** Accumulates parameter gradients from d(last_hidden_state); frees the kept activations. */
  backward(dHidden: Matrix): void {
    const last = this.last
    if (last === undefined) throw new Error("BertEncoder.backward: call forward with { keep: true } first")
    this.last = undefined
    let d = dHidden
    for (let l = this.layers.length - 1; l >= 0; l--) d = this.layers[l].backward(d)
    const dE = this.embeddingNorm.backward(this.embeddingDrop.backward(d))
    this.wordEmbeddings.backward(last.batch.inputIds, dE)
    this.positionEmbeddings.backward(last.positions, dE)
    this.tokenTypeEmbeddings.backward(last.types, dE)
  }
}
