import { RewardModelFolder } from "@embedflow/reward-cross-encoder"
import type { Head } from "@embedflow/tensor"
import { Schema } from "effect"

/**
 * A distilled retriever on disk: `config.json` (the frozen backbone and the head's shape, the round
 * it reads) and `head.json` (the head in packages/tensor's self-describing JSON). Queries and demonstrations share it.
 */
export const Config = Schema.Struct({
  type: Schema.Literal("embedflow/kl-distiller-retriever"),
  backbone: RewardModelFolder.Backbone,
  head: Schema.Struct({ kind: Schema.Literal("low-rank-residual"), dim: Schema.Int, rank: Schema.Int })
})
export type Config = typeof Config.Type

export const write = (dir: string, config: Config, head: Head): Promise<void> =>
  RewardModelFolder.writeHeadFolder(dir, config, head, RewardModelFolder.headFolderCard(config, head, "sentence-similarity", "An LLM-R distilled retriever (kl-distiller/distill)"))

export const read = (dir: string): Promise<{ config: Config; head: Head }> =>
  RewardModelFolder.readHeadFolder(dir, Config, (c) => ({ inputDim: c.head.dim, outputDim: c.head.dim }), "retriever", "kl-distiller/distill")
