import { Context, Layer, type Effect, type Scope } from "effect"
import { makeEncoder as make, PROMPT_EOL_TEMPLATE } from "./internal/encoder.js"
import type { ModelError } from "./ModelError.js"
import type { LoadOptions } from "./ModelSource.js"
import type { Encoded } from "./internal/tokenizer.js"

/** One text tokenized exactly as `embed` would (special tokens added, truncated to maxLength); `ids.length` is its token count. */
export type TokenizedText = Encoded

export type Pooling = "cls" | "mean" | "last-token" | "prompt-eol"

export interface EncoderConfig {
  /** A local model folder, or a hub id when remote loading is enabled. */
  readonly model: string
  readonly pooling: Pooling
  readonly normalize: boolean
  /** Longer texts are truncated (and a warning is logged once). */
  readonly maxLength: number
  /** Upper bound on padded tokens per batch; batches are formed by token length. */
  readonly maxTokensPerBatch: number
  /** For prompt-eol pooling: the template with `{text}`; default PromptEOL's. */
  readonly promptTemplate?: string | undefined
  readonly device?: "cpu" | "cuda" | undefined
  /** Which ONNX file of the folder to run (default `onnx/model.onnx`), e.g. a static encoder's `onnx/model_sif.onnx`. */
  readonly onnxFile?: string | undefined
}

/** Turns texts into fixed-size float32 vectors. */
export interface EncoderShape {
  readonly config: EncoderConfig
  readonly dim: number
  /** Row-major [texts.length x dim]. */
  readonly embed: (texts: ReadonlyArray<string>) => Effect.Effect<Float32Array, ModelError>
  /**
   * The two halves of `embed`, for callers that batch across requests by token count (the server):
   * `embedTokenized(texts.map(tokenize))` equals `embed(texts)`. Optional: encoders that are not
   * tokenizer + ONNX (e.g. remote ones) need not offer them.
   */
  readonly tokenize?: ((text: string) => TokenizedText) | undefined
  readonly embedTokenized?: ((texts: ReadonlyArray<TokenizedText>) => Effect.Effect<Float32Array, ModelError>) | undefined
}

export class Encoder extends Context.Service<Encoder, EncoderShape>()("@embedflow/models/Encoder") {}

/** PromptEOL's template (Jiang et al. 2023): the hidden state after the final `"` is the embedding. */
export const promptEolTemplate: string = PROMPT_EOL_TEMPLATE

/** Defaults for everything but the model: mean pooling, normalized, 512 tokens, 16384 padded tokens per batch. */
export const encoderConfig = (config: Partial<EncoderConfig> & { readonly model: string }): EncoderConfig => ({
  pooling: "mean",
  normalize: true,
  maxLength: 512,
  maxTokensPerBatch: 16384,
  ...config
})

/**
 * An encoder over a model folder: an encoder graph (`last_hidden_state`), or a causal LM (only
 * `logits`; the hidden state under its LM head is read) for last-token / prompt-eol pooling.
 * Tokenization by transformers.js, inference on onnxruntime-node; the session closes with the scope.
 */
export const makeEncoder: (config: EncoderConfig, options?: LoadOptions) => Effect.Effect<EncoderShape, ModelError, Scope.Scope> = make

export const layerEncoder = (config: Partial<EncoderConfig> & { readonly model: string }, options?: LoadOptions): Layer.Layer<Encoder, ModelError> =>
  Layer.effect(Encoder, make(encoderConfig(config), options))
