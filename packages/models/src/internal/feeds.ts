import { Effect } from "effect"
import * as ort from "onnxruntime-node"
import { ModelError } from "../ModelError.js"
import { headDim, type HfConfig, numKvHeads } from "./modelConfig.js"
import type { Session } from "./session.js"

const PAST = /^past_key_values\.(\d+)\.(key|value)$/

/** What a padded batch needs to become onnxruntime feeds for this session. */
export interface FeedPlan {
  readonly usesTypes: boolean
  readonly usesPositions: boolean
  /** past_key_values.* input names, in layer order (key, value). */
  readonly pastNames: ReadonlyArray<string>
  readonly kvHeads: number
  readonly headDim: number
  readonly hasUseCacheBranch: boolean
}

/** Checks every session input is one we know how to fill, and works out KV-cache shapes. */
export const planFeeds = (model: string, s: Session, config: HfConfig): Effect.Effect<FeedPlan, ModelError> =>
  Effect.suspend(() => {
    const known = new Set(["input_ids", "attention_mask", "token_type_ids", "position_ids", "use_cache_branch"])
    const unknown = s.inputNames.filter((n) => !known.has(n) && !PAST.test(n))
    if (!s.inputNames.includes("input_ids") || unknown.length > 0) {
      return Effect.fail(
        new ModelError({
          message: `model "${model}": unsupported ONNX inputs [${s.inputNames.join(", ")}]; expected input_ids, attention_mask and optionally token_type_ids, position_ids, past_key_values.{i}.{key,value}`,
          model,
          file: "onnx/model.onnx"
        })
      )
    }
    const pastNames = s.inputNames
      .filter((n) => PAST.test(n))
      .sort((a, b) => {
        const [, la, ka] = PAST.exec(a)!
        const [, lb, kb] = PAST.exec(b)!
        return Number(la) - Number(lb) || (ka === kb ? 0 : ka === "key" ? -1 : 1)
      })
    let kvHeads = 0
    let hd = 0
    if (pastNames.length > 0) {
      const shape = s.shapeOf(pastNames[0]) ?? []
      kvHeads = typeof shape[1] === "number" ? shape[1] : (numKvHeads(config) ?? 0)
      hd = typeof shape[3] === "number" ? shape[3] : (headDim(config) ?? 0)
      if (!(kvHeads > 0 && hd > 0)) {
        return Effect.fail(
          new ModelError({
            message: `model "${model}": cannot tell the KV-cache shape: ${pastNames[0]} has shape [${shape.join(", ")}] and config.json lacks num_attention_heads/hidden_size`,
            model,
            file: "config.json"
          })
        )
      }
    }
    return Effect.succeed({
      usesTypes: s.inputNames.includes("token_type_ids"),
      usesPositions: s.inputNames.includes("position_ids"),
      pastNames,
      kvHeads,
      headDim: hd,
      hasUseCacheBranch: s.inputNames.includes("use_cache_branch")
    })
  })

/** Empty caches [batch, heads, 0, headDim] for a first (no-past) forward pass. */
export const emptyPast = (plan: FeedPlan, batch: number): Record<string, ort.Tensor> => {
  const out: Record<string, ort.Tensor> = {}
  for (const name of plan.pastNames) out[name] = new ort.Tensor("float32", new Float32Array(0), [batch, plan.kvHeads, 0, plan.headDim])
  return out
}

export const useCacheBranch = (plan: FeedPlan, value: boolean): Record<string, ort.Tensor> =>
  plan.hasUseCacheBranch ? { use_cache_branch: new ort.Tensor("bool", new Uint8Array([value ? 1 : 0]), [1]) } : {}

export interface PaddedBatch {
  readonly feeds: Record<string, ort.Tensor>
  readonly seq: number
  readonly lengths: Array<number>
}

/** Index of the low 32-bit word of an int64 in an Int32Array view: 0 on little-endian machines. */
const LOW_WORD = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1

/**
 * Right-pads rows into input_ids / attention_mask (+ token_type_ids, position_ids 0..n-1, empty
 * past) for one full forward pass.
 */
export const rightPadded = (
  plan: FeedPlan,
  rows: ReadonlyArray<{ readonly ids: ReadonlyArray<number>; readonly types?: ReadonlyArray<number> | undefined }>,
  padId: number
): PaddedBatch => {
  const b = rows.length
  let seq = 1
  for (const r of rows) seq = Math.max(seq, r.ids.length)
  const ids = new BigInt64Array(b * seq).fill(BigInt(padId))
  const mask = new BigInt64Array(b * seq)
  const types = plan.usesTypes ? new BigInt64Array(b * seq) : undefined
  const positions = plan.usesPositions ? new BigInt64Array(b * seq) : undefined
  // Written through 32-bit views (the low word; the high word of a non-negative value below 2^31 is 0,
  // as the fill and zero-initialisation left it):
  // `BigInt(x)` per token allocated a heap object each, garbage that V8's collector then had to chase.
  const ids32 = new Int32Array(ids.buffer)
  const mask32 = new Int32Array(mask.buffer)
  const types32 = types ? new Int32Array(types.buffer) : undefined
  const positions32 = positions ? new Int32Array(positions.buffer) : undefined
  const lengths: Array<number> = []
  for (let r = 0; r < b; r++) {
    const row = rows[r]
    const o = r * seq
    lengths.push(row.ids.length)
    for (let t = 0; t < row.ids.length; t++) {
      const at = 2 * (o + t) + LOW_WORD
      ids32[at] = row.ids[t]
      mask32[at] = 1
      if (types32 && row.types) types32[at] = row.types[t]
      if (positions32) positions32[at] = t
    }
  }
  const dims = [b, seq]
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor("int64", ids, dims),
    attention_mask: new ort.Tensor("int64", mask, dims),
    ...(types ? { token_type_ids: new ort.Tensor("int64", types, dims) } : {}),
    ...(positions ? { position_ids: new ort.Tensor("int64", positions, dims) } : {}),
    ...emptyPast(plan, b),
    ...useCacheBranch(plan, false)
  }
  return { feeds, seq, lengths }
}
