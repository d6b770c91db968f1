import { AutoTokenizer, type PreTrainedTokenizer } from "@huggingface/transformers"
import { Effect } from "effect"
import { ModelError } from "../ModelError.js"

export interface Encoded {
  readonly ids: Array<number>
  /** Segment ids (token_type_ids) when the tokenizer produces them. */
  readonly types: Array<number> | undefined
  /** The token count before truncation. */
  readonly fullLength: number
}

/** transformers.js's tokenizer, plus truncation that keeps the template's special tokens. */
export interface Tokenizer {
  readonly raw: PreTrainedTokenizer
  readonly padId: number
  readonly eosId: number | undefined
  readonly bosId: number | undefined
  readonly specialIds: ReadonlySet<number>
  /** Text (or text pair) with the model's special tokens, truncated to maxLength. */
  readonly encode: (text: string, pair?: string, maxLength?: number) => Encoded
  /** Content tokens only, no special tokens. */
  readonly encodePlain: (text: string) => Array<number>
  readonly decode: (ids: ReadonlyArray<number>) => string
}

export const loadTokenizer = (model: string, dir: string): Effect.Effect<Tokenizer, ModelError> =>
  Effect.tryPromise({
    try: () => AutoTokenizer.from_pretrained(dir, { local_files_only: true }),
    catch: (e) =>
      new ModelError({
        message: `model "${model}": cannot load tokenizer.json / tokenizer_config.json from ${dir}: ${e instanceof Error ? e.message : String(e)}`,
        model,
        file: "tokenizer.json",
        cause: e
      })
  }).pipe(Effect.map(makeTokenizer))

const num = (x: unknown): number | undefined => (typeof x === "number" && Number.isInteger(x) && x >= 0 ? x : undefined)

export const makeTokenizer = (raw: PreTrainedTokenizer): Tokenizer => {
  const specialIds = new Set(raw.all_special_ids)
  const eosId = num(raw.eos_token_id)
  const padId = num(raw.pad_token_id) ?? eosId ?? 0
  const returnTypes = raw.return_token_type_ids
  const encode = (text: string, pair?: string, maxLength?: number): Encoded => {
    const r = raw._tokenizer.encode(text, {
      text_pair: pair ?? null,
      add_special_tokens: true,
      return_token_type_ids: returnTypes
    }) as { ids: Array<number>; token_type_ids?: Array<number> }
    const ids = r.ids
    const types = r.token_type_ids
    const fullLength = ids.length
    if (maxLength === undefined || ids.length <= maxLength) return { ids, types, fullLength }
    return { ...truncate(ids, types, maxLength, specialIds), fullLength }
  }
  return {
    raw,
    padId,
    eosId,
    bosId: num(raw.bos_token_id),
    specialIds,
    encode,
    encodePlain: (text) => raw.encode(text, { add_special_tokens: false }),
    decode: (ids) => raw.decode(ids as Array<number>, { skip_special_tokens: true })
  }
}

/**
 * Drops content tokens from the end of the longest segment until the sequence fits, keeping the
 * special tokens the template added ([CLS] ... [SEP], pair separators), like "longest_first".
 */
export const truncate = (
  ids: Array<number>,
  types: Array<number> | undefined,
  maxLength: number,
  special: ReadonlySet<number>
): { ids: Array<number>; types: Array<number> | undefined } => {
  const n = ids.length
  const segOf = (i: number) => (types ? types[i] : 0)
  const counts = new Map<number, number>()
  for (let i = 0; i < n; i++) if (!special.has(ids[i])) counts.set(segOf(i), (counts.get(segOf(i)) ?? 0) + 1)
  const drop = new Map<number, number>()
  for (let excess = n - maxLength; excess > 0; excess--) {
    let best = -1
    let bestCount = 0
    // Ties go to the later segment, as Hugging Face's longest_first does.
    for (const [seg, c] of counts) if (c > 0 && c >= bestCount) [best, bestCount] = [seg, c]
    if (bestCount === 0) break // only special tokens left
    counts.set(best, bestCount - 1)
    drop.set(best, (drop.get(best) ?? 0) + 1)
  }
  const keepIds: Array<number> = []
  const keepTypes: Array<number> = []
  // Walk backwards so the dropped tokens are each segment's last content tokens.
  const toDrop = new Map(drop)
  const keep = new Uint8Array(n).fill(1)
  for (let i = n - 1; i >= 0; i--) {
    const seg = segOf(i)
    const d = toDrop.get(seg) ?? 0
    if (d > 0 && !special.has(ids[i])) {
      keep[i] = 0
      toDrop.set(seg, d - 1)
    }
  }
  for (let i = 0; i < n; i++) {
    if (keep[i]) {
      keepIds.push(ids[i])
      if (types) keepTypes.push(types[i])
    }
  }
  // A sequence of only special tokens longer than maxLength: cut it.
  return { ids: keepIds.slice(0, maxLength), types: types ? keepTypes.slice(0, maxLength) : undefined }
}
