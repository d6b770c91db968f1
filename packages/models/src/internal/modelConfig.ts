import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { ModelError } from "../ModelError.js"

export type HfConfig = Readonly<Record<string, unknown>>

export const readJson = (model: string, dir: string, file: string): Effect.Effect<HfConfig, ModelError> =>
  Effect.try({
    try: () => JSON.parse(readFileSync(join(dir, file), "utf8")) as HfConfig,
    catch: (e) => new ModelError({ message: `model "${model}": cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, model, file, cause: e })
  })

const firstNumber = (c: HfConfig, keys: ReadonlyArray<string>): number | undefined => {
  for (const k of keys) {
    const v = c[k]
    if (typeof v === "number" && Number.isFinite(v)) return v
  }
  return undefined
}

export const maxPositions = (c: HfConfig): number | undefined =>
  firstNumber(c, ["max_position_embeddings", "n_positions", "n_ctx", "max_seq_len"])

export const hiddenSize = (c: HfConfig): number | undefined => firstNumber(c, ["hidden_size", "n_embd", "d_model", "dim"])

export const vocabSize = (c: HfConfig): number | undefined => firstNumber(c, ["vocab_size"])

export const numHeads = (c: HfConfig): number | undefined => firstNumber(c, ["num_attention_heads", "n_head", "num_heads"])

export const numKvHeads = (c: HfConfig): number | undefined => firstNumber(c, ["num_key_value_heads", "n_head_kv"]) ?? numHeads(c)

export const headDim = (c: HfConfig): number | undefined => {
  const explicit = firstNumber(c, ["head_dim"])
  if (explicit !== undefined) return explicit
  const h = hiddenSize(c)
  const n = numHeads(c)
  return h !== undefined && n !== undefined ? h / n : undefined
}

export const eosTokenId = (...configs: ReadonlyArray<HfConfig>): number | undefined => {
  for (const c of configs) {
    const v = c.eos_token_id
    if (typeof v === "number") return v
    if (Array.isArray(v) && typeof v[0] === "number") return v[0]
  }
  return undefined
}
