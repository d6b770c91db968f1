import { Context, type Effect } from "effect"
import type { ModelError } from "./ModelError.js"

/** Scores text pairs jointly (higher = more relevant / similar). */
export interface CrossEncoderShape {
  readonly model: string
  readonly score: (pairs: ReadonlyArray<readonly [string, string]>) => Effect.Effect<Float32Array, ModelError>
}

export class CrossEncoder extends Context.Service<CrossEncoder, CrossEncoderShape>()("@embedflow/models/CrossEncoder") {}
