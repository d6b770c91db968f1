import * as fs from "node:fs/promises"
import * as path from "node:path"
import { RewardModelFolder } from "@embedflow/reward-cross-encoder"
import { type Head, headFromJSON } from "@embedflow/tensor"
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
    throw new Error(`${file}: cannot read a retriever config (${e instanceof Error ? e.message : String(e)}); expected a folder written by kl-distiller/distill`)
  }
  const config = Schema.decodeUnknownSync(Config)(raw)
  const head = headFromJSON(JSON.parse(await fs.readFile(path.join(dir, "head.json"), "utf8")))
  if (head.inputDim !== config.head.dim || head.outputDim !== config.head.dim) {
    throw new Error(`${dir}/head.json: a ${head.inputDim} -> ${head.outputDim} head, expected ${config.head.dim} -> ${config.head.dim} as config.json says`)
  }
  return { config, head }
}
