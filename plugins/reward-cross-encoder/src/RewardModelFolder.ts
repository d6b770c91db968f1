import * as fs from "node:fs/promises"
import * as path from "node:path"
import { type EncoderConfig, type ModelCard, writeModelCard } from "@embedflow/models"
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

/**
 * Writes a head folder: `config` as config.json, the head as head.json, and a model card
 * (README.md) when given. Shared with the other head-over-frozen-backbone folders (kl-distiller's retriever).
 */
export const writeHeadFolder = async (dir: string, config: unknown, head: Head, card?: ModelCard): Promise<void> => {
  await fs.mkdir(dir, { recursive: true })
  await fs.writeFile(path.join(dir, "config.json"), JSON.stringify(config, null, 2) + "\n")
  await fs.writeFile(path.join(dir, "head.json"), JSON.stringify(head.toJSON()))
  if (card) writeModelCard(dir, card)
}

/** The card of a head folder: embedflow loads it (the backbone is referenced, not copied). */
export const headFolderCard = (config: { readonly type: string; readonly backbone: Backbone }, head: Head, pipelineTag: string, what: string): ModelCard => ({
  pipelineTag,
  libraryName: "embedflow",
  baseModel: config.backbone.model,
  tags: [config.type],
  body: [
    `${what}: a ${head.kind} head (${head.inputDim} -> ${head.outputDim}) over the frozen backbone \`${config.backbone.model}\` (${config.backbone.pooling} pooling${config.backbone.normalize ? ", normalised" : ""}, max ${config.backbone.maxLength} tokens).`,
    "",
    "`config.json` names the backbone and the head's shape; `head.json` holds the head's weights (embedflow's self-describing JSON). Load it with the plugin that wrote it."
  ].join("\n")
})

/**
 * Reads a head folder: config.json decoded with `schema`, head.json as a Head whose dims must be
 * `expected(config)`. `what` and `writer` name the folder kind in errors.
 */
export const readHeadFolder = async <C>(
  dir: string,
  schema: Schema.Codec<C, unknown>,
  expected: (config: C) => { readonly inputDim: number; readonly outputDim: number },
  what: string,
  writer: string
): Promise<{ config: C; head: Head }> => {
  const file = path.join(dir, "config.json")
  let raw: unknown
  try {
    raw = JSON.parse(await fs.readFile(file, "utf8"))
  } catch (e) {
    throw new Error(`${file}: cannot read a ${what} config (${e instanceof Error ? e.message : String(e)}); expected a folder written by ${writer}`)
  }
  const config = Schema.decodeUnknownSync(schema)(raw)
  const head = headFromJSON(JSON.parse(await fs.readFile(path.join(dir, "head.json"), "utf8")))
  const { inputDim, outputDim } = expected(config)
  if (head.inputDim !== inputDim || head.outputDim !== outputDim) {
    throw new Error(`${dir}/head.json: a ${head.inputDim} -> ${head.outputDim} head, expected ${inputDim} -> ${outputDim} as config.json says`)
  }
  return { config, head }
}

export const write = (dir: string, config: Config, head: Head): Promise<void> =>
  writeHeadFolder(dir, config, head, headFolderCard(config, head, "text-ranking", "An LLM-R reward model (reward-cross-encoder/train)"))

export const read = (dir: string): Promise<{ config: Config; head: Head }> =>
  readHeadFolder(dir, Config, (c) => ({ inputDim: c.head.inputDim, outputDim: 1 }), "reward model", "reward-cross-encoder/train")
