import { HeadFolder } from "@embedflow/models"
import type { Head } from "@embedflow/tensor"
import { Schema } from "effect"

/**
 * A distilled retriever on disk: `config.json` (the frozen backbone and the head's shape, the round
 * it reads) and `head.json` (the head in packages/tensor's self-describing JSON). Queries and demonstrations share it.
 */
export const Config = Schema.Struct({
  type: Schema.Literal("embedflow/kl-distiller-retriever"),
  backbone: HeadFolder.Backbone,
  head: Schema.Struct({ kind: Schema.Literal("low-rank-residual"), dim: Schema.Int, rank: Schema.Int })
})
export type Config = typeof Config.Type

export const write = (dir: string, config: Config, head: Head): Promise<void> => HeadFolder.write(dir, config, head, HeadFolder.card(config, head, "sentence-similarity", "An LLM-R distilled retriever (kl-distiller/distill)"))

export const read = (dir: string): Promise<{ config: Config; head: Head }> =>
  HeadFolder.read(dir, Config, (c) => ({ inputDim: c.head.dim, outputDim: c.head.dim }), "retriever", "kl-distiller/distill")
