import { Context, type Effect } from "effect"
import type { CausalLMShape } from "./CausalLM.js"
import type { CrossEncoderShape } from "./CrossEncoder.js"
import type { EncoderConfig, EncoderShape } from "./Encoder.js"
import type { ModelError } from "./ModelError.js"

/**
 * What stages use to get models named in their params: each model is loaded once per run (sessions
 * cached by folder and options) and released when the run's scope closes.
 */
export interface ModelHubShape {
  readonly encoder: (config: Partial<EncoderConfig> & { readonly model: string }) => Effect.Effect<EncoderShape, ModelError>
  readonly causalLM: (model: string) => Effect.Effect<CausalLMShape, ModelError>
  readonly crossEncoder: (model: string) => Effect.Effect<CrossEncoderShape, ModelError>
}

export class ModelHub extends Context.Service<ModelHub, ModelHubShape>()("@embedflow/models/ModelHub") {}
