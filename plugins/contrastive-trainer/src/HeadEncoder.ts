import type { EncoderShape, ModelError, ModelHubShape } from "@embedflow/models"
import { type Head, l2Normalize, matrix } from "@embedflow/tensor"
import { Effect } from "effect"
import { readHeadConfig } from "./EncoderFolder.js"

export interface HeadEncoder {
  readonly dim: number
  /** Row-major [texts x dim], L2-normalised. */
  readonly embed: (texts: ReadonlyArray<string>) => Effect.Effect<Float32Array, ModelError>
}

/** Backbone embeddings (raw pooled) through a head, then L2-normalised. */
export const withHead = (backbone: EncoderShape, head: Head | undefined): HeadEncoder => ({
  dim: head ? head.outputDim : backbone.dim,
  embed: (texts) =>
    Effect.map(backbone.embed(texts), (x) => {
      const pooled = matrix(texts.length, backbone.dim, x)
      return l2Normalize(head ? head.predict(pooled) : pooled).y.data
    })
})

/**
 * The encoder of a folder written by `writeEncoderFolder` (backbone + head), or of a plain backbone
 * folder (then `pooling` says how to pool).
 */
export const loadHeadEncoder = (hub: ModelHubShape, dir: string, pooling: "cls" | "mean" = "mean") =>
  Effect.gen(function* () {
    const config = yield* Effect.promise(() => readHeadConfig(dir))
    const backbone = yield* hub.encoder({ model: dir, pooling: config?.pooling ?? pooling, normalize: false })
    return withHead(backbone, config?.head)
  })
