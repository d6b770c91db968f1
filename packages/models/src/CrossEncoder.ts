import { Context, Layer, type Effect, type Scope } from "effect"
import { makeCrossEncoder as make } from "./internal/crossEncoder.js"
import type { ModelError } from "./ModelError.js"
import type { LoadOptions } from "./ModelSource.js"

/** Scores text pairs jointly (higher = more relevant / similar). */
export interface CrossEncoderShape {
  readonly model: string
  readonly score: (pairs: ReadonlyArray<readonly [string, string]>) => Effect.Effect<Float32Array, ModelError>
}

export class CrossEncoder extends Context.Service<CrossEncoder, CrossEncoderShape>()("@embedflow/models/CrossEncoder") {}

export interface CrossEncoderOptions extends LoadOptions {
  /** Which logit is the score; default the only one (1 label) or the positive one (2 labels). */
  readonly labelIndex?: number | undefined
  /** Pairs longer than this are truncated longest-segment-first (warned once). Default 512, capped by the model's positions. */
  readonly maxLength?: number | undefined
  /** Upper bound on padded tokens per batch. Default 16384. */
  readonly maxTokensPerBatch?: number | undefined
}

/** A cross-encoder over a sequence-classification model folder (ONNX `logits` [batch, labels]); its session closes with the scope. */
export const makeCrossEncoder: (model: string, options?: CrossEncoderOptions) => Effect.Effect<CrossEncoderShape, ModelError, Scope.Scope> = make

export const layerCrossEncoder = (model: string, options?: CrossEncoderOptions): Layer.Layer<CrossEncoder, ModelError> =>
  Layer.effect(CrossEncoder, make(model, options))
