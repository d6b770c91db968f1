import { Context, type Effect } from "effect"
import type { ModelError } from "./ModelError.js"

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
}

/** Turns texts into fixed-size float32 vectors. */
export interface EncoderShape {
  readonly config: EncoderConfig
  readonly dim: number
  /** Row-major [texts.length x dim]. */
  readonly embed: (texts: ReadonlyArray<string>) => Effect.Effect<Float32Array, ModelError>
}

export class Encoder extends Context.Service<Encoder, EncoderShape>()("@embedflow/models/Encoder") {}
