import { HeadFolder } from "@embedflow/models"
import type { Head } from "@embedflow/tensor"
import { Schema } from "effect"

/** A trained reward model on disk: a models HeadFolder whose config.json names the backbone and the MLP head's shape. */
export const Config = Schema.Struct({
  type: Schema.Literal("embedflow/reward-cross-encoder"),
  backbone: HeadFolder.Backbone,
  head: Schema.Struct({ kind: Schema.Literal("mlp"), inputDim: Schema.Int, hiddenDim: Schema.Int })
})
export type Config = typeof Config.Type

export const write = (dir: string, config: Config, head: Head): Promise<void> => HeadFolder.write(dir, config, head, HeadFolder.card(config, head, "text-ranking", "An LLM-R reward model (reward-cross-encoder/train)"))

export const read = (dir: string): Promise<{ config: Config; head: Head }> =>
  HeadFolder.read(dir, Config, (c) => ({ inputDim: c.head.inputDim, outputDim: 1 }), "reward model", "reward-cross-encoder/train")
