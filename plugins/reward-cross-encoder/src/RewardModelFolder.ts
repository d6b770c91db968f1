import * as fs from "node:fs/promises"
import * as path from "node:path"
import type { EncoderConfig } from "@embedflow/models"
import { type Head, headFromJSON } from "@embedflow/tensor"
import { Schema } from "effect"

/**
 * A trained reward model on disk: `config.json` (the frozen backbone it reads and the head's shape)
 * and `head.json` (the head in packages/tensor's self-describing JSON). The backbone is referenced by its absolute folder, not
 * copied: it is frozen, and real backbones are large.
 */
export const Backbone = Schema.Struct({
  model: Schema.String,
  pooling: Schema.Literals(["cls", "mean", "last-token", "prompt-eol"]),
  normalize: Schema.Boolean,
  maxLength: Schema.Int
})
export type Backbone = typeof Backbone.Type

export const Config = Schema.Struct({
  type: Schema.Literal("embedflow/reward-cross-encoder"),
  backbone: Backbone,
  head: Schema.Struct({ kind: Schema.Literal("mlp"), inputDim: Schema.Int, hiddenDim: Schema.Int })
})
export type Config = typeof Config.Type

export const encoderConfig = (b: Backbone): Partial<EncoderConfig> & { readonly model: string } => ({
  model: b.model,
  pooling: b.pooling,
  normalize: b.normalize,
  maxLength: b.maxLength
})

export const write = async (dir: string, config: Config, head: Head): Promise<void> => {
  await fs.mkdir(dir, { recursive: true })
  await fs.writeFile(path.join(dir, "config.json"), JSON.stringify(config, null, 2) + "\n")
  await fs.writeFile(path.join(dir, "head.json"), JSON.stringify(head.toJSON()))
}

export const read = async (dir: string): Promise<{ config: Config; head: Head }> => {
  const file = path.join(dir, "config.json")
  let raw: unknown
  try {
    raw = JSON.parse(await fs.readFile(file, "utf8"))
  } catch (e) {
    throw new Error(`${file}: cannot read a reward model config (${e instanceof Error ? e.message : String(e)}); expected a folder written by reward-cross-encoder/train`)
  }
  const config = Schema.decodeUnknownSync(Config)(raw)
  const head = headFromJSON(JSON.parse(await fs.readFile(path.join(dir, "head.json"), "utf8")))
  if (head.inputDim !== config.head.inputDim || head.outputDim !== 1) {
    throw new Error(`${dir}/head.json: a ${head.inputDim} -> ${head.outputDim} head, expected ${config.head.inputDim} -> 1 as config.json says`)
  }
  return { config, head }
}
