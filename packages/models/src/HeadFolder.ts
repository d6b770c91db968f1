import * as fs from "node:fs/promises"
import * as path from "node:path"
import { writeFileAtomic } from "@embedflow/core"
import { type Head, headFromJSON } from "@embedflow/tensor"
import { Schema } from "effect"
import type { EncoderConfig } from "./Encoder.js"
import { type ModelCard, writeModelCard } from "./ModelCard.js"

/**
 * A head over a frozen backbone on disk (reward-cross-encoder's reward model, kl-distiller's
 * retriever): `config.json` (the frozen backbone it reads and the head's shape) and `head.json` (the
 * head in packages/tensor's self-describing JSON). The backbone is referenced by its absolute folder,
 * not copied: it is frozen, and real backbones are large.
 */
export const Backbone = Schema.Struct({
  model: Schema.String,
  pooling: Schema.Literals(["cls", "mean", "last-token", "prompt-eol"]),
  normalize: Schema.Boolean,
  maxLength: Schema.Int
})
export type Backbone = typeof Backbone.Type

export const encoderConfig = (b: Backbone): Partial<EncoderConfig> & { readonly model: string } => ({
  model: b.model,
  pooling: b.pooling,
  normalize: b.normalize,
  maxLength: b.maxLength
})

/**
 * Writes a head folder: `config` as config.json and the head as head.json, each atomically, and a
 * model card (README.md) when given.
 */
export const write = async (dir: string, config: unknown, head: Head, card?: ModelCard): Promise<void> => {
  await writeFileAtomic(path.join(dir, "head.json"), JSON.stringify(head.toJSON()))
  await writeFileAtomic(path.join(dir, "config.json"), JSON.stringify(config, null, 2) + "\n")
  if (card) writeModelCard(dir, card)
}

/** The card of a head folder: embedflow loads it (the backbone is referenced, not copied). */
export const card = (config: { readonly type: string; readonly backbone: Backbone }, head: Head, pipelineTag: string, what: string): ModelCard => ({
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
export const read = async <C>(
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
