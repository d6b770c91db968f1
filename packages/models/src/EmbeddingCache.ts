import { Effect } from "effect"
import type { EncoderShape } from "./Encoder.js"
import type { ModelError } from "./ModelError.js"

/**
 * Frozen-backbone embeddings of a set of texts, each distinct text embedded once: training a head
 * over a frozen encoder then runs the backbone once per text, not once per epoch or per pair.
 */
export interface EmbeddingCache {
  readonly dim: number
  readonly count: number
  /** Row-major [count x dim]. */
  readonly data: Float32Array
  /** Row of a text; throws (naming the text) when it was not embedded. */
  readonly rowOf: (text: string) => number
}

/** A cache over rows already computed: row i of `data` is the embedding of `texts[i]`. */
export const fromRows = (texts: ReadonlyArray<string>, data: Float32Array, dim: number): EmbeddingCache => {
  if (data.length !== texts.length * dim) {
    throw new Error(`embedding cache: ${data.length} floats for ${texts.length} texts of dim ${dim}`)
  }
  const rows = new Map<string, number>()
  texts.forEach((t, i) => rows.set(t, i))
  return {
    dim,
    count: texts.length,
    data,
    rowOf: (text) => {
      const r = rows.get(text)
      if (r === undefined) throw new Error(`embedding cache: text not embedded: ${JSON.stringify(text.slice(0, 80))}`)
      return r
    }
  }
}

/** Embeds the distinct texts of `texts` with `encoder`, `batchSize` texts a call. */
export const build = (
  encoder: Pick<EncoderShape, "dim" | "embed">,
  texts: Iterable<string>,
  options: { readonly batchSize: number; readonly onProgress?: ((done: number, total: number) => Effect.Effect<void>) | undefined }
): Effect.Effect<EmbeddingCache, ModelError> =>
  Effect.gen(function* () {
    const unique = [...new Set(texts)]
    const dim = encoder.dim
    const data = new Float32Array(unique.length * dim)
    const batch = Math.max(1, options.batchSize)
    for (let start = 0; start < unique.length; start += batch) {
      const part = unique.slice(start, start + batch)
      const rows = yield* encoder.embed(part)
      if (rows.length !== part.length * dim) {
        return yield* Effect.die(new Error(`embedding cache: the encoder returned ${rows.length} floats for ${part.length} texts of dim ${dim}`))
      }
      data.set(rows, start * dim)
      if (options.onProgress) yield* options.onProgress(start + part.length, unique.length)
    }
    return fromRows(unique, data, dim)
  })

/** Gathers the rows of `texts` into a new [texts.length x dim] matrix. */
export const gather = (cache: EmbeddingCache, texts: ReadonlyArray<string>): Float32Array => {
  const out = new Float32Array(texts.length * cache.dim)
  texts.forEach((t, i) => {
    const r = cache.rowOf(t)
    out.set(cache.data.subarray(r * cache.dim, (r + 1) * cache.dim), i * cache.dim)
  })
  return out
}
