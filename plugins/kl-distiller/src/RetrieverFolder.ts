import * as fs from "node:fs/promises"
import * as path from "node:path"
import { RewardModelFolder, Training } from "@embedflow/reward-cross-encoder"
import { Schema } from "effect"

/**
 * A distilled retriever on disk: `config.json` (the frozen backbone and the head's shape, the round
 * it was trained in) and `head.json` (the head's weights). Queries and demonstrations share it.
 */
export const Config = Schema.Struct({
  type: Schema.Literal("embedflow/kl-distiller-retriever"),
  backbone: RewardModelFolder.Backbone,
  head: Schema.Struct({ kind: Schema.Literal("residual-adapter"), dim: Schema.Int, rank: Schema.Int })
})
export type Config = typeof Config.Type

export const write = async (dir: string, config: Config, head: Training.Head): Promise<void> => {
  await fs.mkdir(dir, { recursive: true })
  await fs.writeFile(path.join(dir, "config.json"), JSON.stringify(config, null, 2) + "\n")
  await fs.writeFile(path.join(dir, "head.json"), JSON.stringify(Training.saveParameters(head)))
}

export const read = async (dir: string): Promise<{ config: Config; head: Training.Head }> => {
  const file = path.join(dir, "config.json")
  let raw: unknown
  try {
    raw = JSON.parse(await fs.readFile(file, "utf8"))
  } catch (e) {
    throw new Error(`${file}: cannot read a retriever config (${e instanceof Error ? e.message : String(e)}); expected a folder written by kl-distiller/distill`)
  }
  const config = Schema.decodeUnknownSync(Config)(raw)
  const head = Training.residualAdapter(config.head.dim, config.head.rank, 0)
  Training.loadParameters(head, JSON.parse(await fs.readFile(path.join(dir, "head.json"), "utf8")) as Record<string, Array<number>>)
  return { config, head }
}
