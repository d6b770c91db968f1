import { Effect } from "effect"

/**
 * Frozen-backbone embeddings, each distinct text embedded once: epochs (and the dev set) then cost
 * only head passes, never backbone passes.
 */
export interface EmbeddingCache {
  readonly dim: number
  readonly count: number
  /** Row-major [count x dim]. */
  readonly data: Float32Array
  /** Row of a text; throws naming the text when it was not embedded. */
  readonly rowOf: (text: string) => number
}

export const build = <E>(
  embed: (texts: ReadonlyArray<string>) => Effect.Effect<Float32Array, E>,
  texts: Iterable<string>,
  options: { readonly chunk: number; readonly onProgress?: ((done: number, total: number) => Effect.Effect<void>) | undefined }
): Effect.Effect<EmbeddingCache, E> =>
  Effect.gen(function* () {
    const unique = [...new Set(texts)]
    const parts: Array<Float32Array> = []
    for (let s = 0; s < unique.length; s += options.chunk) {
      parts.push(yield* embed(unique.slice(s, s + options.chunk)))
      if (options.onProgress) yield* options.onProgress(Math.min(s + options.chunk, unique.length), unique.length)
    }
    const total = parts.reduce((n, p) => n + p.length, 0)
    const dim = unique.length === 0 ? 0 : total / unique.length
    if (!Number.isInteger(dim)) return yield* Effect.die(new Error(`embedding cache: ${total} floats for ${unique.length} texts`))
    const data = new Float32Array(total)
    let o = 0
    for (const p of parts) {
      data.set(p, o)
      o += p.length
    }
    const rows = new Map(unique.map((t, i) => [t, i]))
    return {
      dim,
      count: unique.length,
      data,
      rowOf: (text) => {
        const r = rows.get(text)
        if (r === undefined) throw new Error(`embedding cache: text was not embedded: ${JSON.stringify(text.slice(0, 80))}`)
        return r
      }
    }
  })

/** The rows of `texts` as a new [texts.length x dim] matrix. */
export const gather = (cache: EmbeddingCache, texts: ReadonlyArray<string>): Float32Array => {
  const out = new Float32Array(texts.length * cache.dim)
  texts.forEach((t, i) => {
    const r = cache.rowOf(t)
    out.set(cache.data.subarray(r * cache.dim, (r + 1) * cache.dim), i * cache.dim)
  })
  return out
}
