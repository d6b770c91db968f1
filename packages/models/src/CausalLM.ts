import { Context, Layer, type Effect, type Scope } from "effect"
import { makeCausalLM as make } from "./internal/causalLM.js"
import type { ModelError } from "./ModelError.js"
import type { LoadOptions } from "./ModelSource.js"

/**
 * Step-wise decoding of a batch of prompts with the KV cache kept between steps. Two decoders
 * advanced in lock-step give the two logit streams that contrastive decoding combines.
 */
export interface Decoder {
  readonly batch: number
  readonly vocabSize: number
  /** Next-token logits of the last step, row-major [batch x vocab]. Valid until the next `step`. */
  readonly logits: () => Float32Array
  /** Appends one token to each sequence (reusing the cache) and computes the next logits. */
  readonly step: (tokens: ReadonlyArray<number>) => Effect.Effect<void, ModelError>
}

export interface GenerateOptions {
  readonly maxNewTokens: number
  /** 0 means greedy. */
  readonly temperature?: number | undefined
  readonly topP?: number | undefined
  readonly stop?: ReadonlyArray<string> | undefined
  readonly seed: number
}

export interface LogLikelihood {
  /** Sum of log p(continuation token | prefix) over the continuation's tokens. */
  readonly total: number
  readonly tokens: number
}

export interface CausalLMShape {
  readonly model: string
  readonly vocabSize: number
  readonly eosTokenId: number | undefined
  readonly encode: (text: string) => ReadonlyArray<number>
  readonly decode: (ids: ReadonlyArray<number>) => string
  /** Runs the prompts and returns a decoder positioned after them; its cache is freed with the scope. */
  readonly decoder: (prompts: ReadonlyArray<string>) => Effect.Effect<Decoder, ModelError, Scope.Scope>
  /** log p(continuation | prompt) for each pair, one forward pass per pair, batched. */
  readonly logLikelihood: (
    pairs: ReadonlyArray<{ readonly prompt: string; readonly continuation: string }>
  ) => Effect.Effect<ReadonlyArray<LogLikelihood>, ModelError>
  /** Plain greedy or sampled generation; returns only the new text. */
  readonly generate: (prompts: ReadonlyArray<string>, options: GenerateOptions) => Effect.Effect<ReadonlyArray<string>, ModelError>
}

export class CausalLM extends Context.Service<CausalLM, CausalLMShape>()("@embedflow/models/CausalLM") {}

export interface CausalLMOptions extends LoadOptions {
  /** Upper bound on padded tokens per logLikelihood forward pass (also capped so logits stay under 256 MB). Default 8192. */
  readonly maxTokensPerBatch?: number | undefined
}

/**
 * A causal LM over a model folder (ONNX with `logits`, and `past_key_values.*`/`present.*` for the
 * KV cache; without them each decoding step recomputes the sequence). `encode` gives content tokens
 * without special tokens; prompts get the tokenizer's special tokens (e.g. BOS), an empty prompt
 * starts from BOS/EOS. Prompts longer than the model's positions are cut from the left (warned once).
 */
export const makeCausalLM: (model: string, options?: CausalLMOptions) => Effect.Effect<CausalLMShape, ModelError, Scope.Scope> = make

export const layerCausalLM = (model: string, options?: CausalLMOptions): Layer.Layer<CausalLM, ModelError> =>
  Layer.effect(CausalLM, make(model, options))
