import { createHash } from "node:crypto"
import type { Vectors } from "./ArtifactFormat.js"
import { canonicalJson, sha256Hex } from "./internal/canonicalJson.js"
import type { KeyIngredients } from "./Plan.js"
import type { AnyStage, Ports } from "./Stage.js"
import type { ShardInfo } from "./StageTask.js"

/** Items per shard when neither the stage nor the run says. */
export const defaultShardItems = 512

const isVectors = (v: unknown): v is Vectors => !!v && typeof v === "object" && (v as Vectors).data instanceof Float32Array

/** How many items a sharded port's value holds (array length or vector rows). */
export const itemCount = (value: unknown): number => (isVectors(value) ? value.count : (value as ReadonlyArray<unknown>).length)

/** Items `[from, to)` of a records array or a vectors matrix (ids sliced along). */
export const sliceItems = (value: unknown, from: number, to: number): unknown => {
  if (!isVectors(value)) return (value as ReadonlyArray<unknown>).slice(from, to)
  return {
    dim: value.dim,
    count: to - from,
    data: value.data.slice(from * value.dim, to * value.dim),
    ...(value.ids ? { ids: value.ids.slice(from, to) } : {})
  } satisfies Vectors
}

/** The shards of an input of `total` items, `items` each (the last one shorter). */
export const plan = (total: number, items: number): Array<ShardInfo> => {
  const count = Math.max(1, Math.ceil(total / items))
  return Array.from({ length: count }, (_, index) => {
    const offset = index * items
    return { index, count, offset, items: Math.min(items, total - offset), total }
  })
}

const concatVectors = (parts: ReadonlyArray<Vectors>): Vectors => {
  const dim = parts[0]!.dim
  const count = parts.reduce((n, p) => n + p.count, 0)
  const data = new Float32Array(count * dim)
  let at = 0
  for (const p of parts) {
    if (p.dim !== dim) throw new Error(`shards disagree on the vector size (${p.dim} vs ${dim})`)
    data.set(p.data, at)
    at += p.data.length
  }
  const withIds = parts.every((p) => p.ids !== undefined)
  return { dim, count, data, ...(withIds ? { ids: parts.flatMap((p) => [...p.ids!]) } : {}) }
}

/** The shards' outputs in shard order, combined: the stage's `shard.merge`, or concatenation per port. */
export const merge = (stage: AnyStage, params: unknown, parts: ReadonlyArray<Record<string, unknown>>): Record<string, unknown> => {
  if (stage.shard?.merge) return stage.shard.merge(params, parts)
  const out: Record<string, unknown> = {}
  for (const [port, type] of Object.entries(stage.outputs as Ports)) {
    const values = parts.map((p) => p[port])
    out[port] = type.format.kind === "vectors" ? concatVectors(values as Array<Vectors>) : values.flatMap((v) => [...(v as ReadonlyArray<unknown>)])
  }
  return out
}

/**
 * A shard's cache key: the node's key ingredients with the sharded input replaced by the hash of the
 * shard's items and their offset. Equal shards are reused when only other parts of the input change.
 */
export const keyOf = (ingredients: KeyIngredients, over: string, shard: ShardInfo, items: unknown): string =>
  sha256Hex(
    canonicalJson({
      ...ingredients,
      reads: ingredients.reads.map((r) => ({ path: r.path, kind: r.kind, sha256: r.sha256 })),
      inputs: { ...ingredients.inputs, [over]: undefined },
      shard: { over, offset: shard.offset, items: isVectors(items) ? vectorsDigest(items) : sha256Hex(canonicalJson(items)) }
    })
  )

/** The rows' bytes hashed as they are (no text copy of the floats). */
const vectorsDigest = (v: Vectors): string =>
  createHash("sha256")
    .update(`${v.dim}:${v.count}:`)
    .update(new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength))
    .update(canonicalJson(v.ids ?? null))
    .digest("hex")
