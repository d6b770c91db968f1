/**
 * A BM25 analyzer: NFKC + lower-casing, Unicode word split (letters, marks and digits; an inner
 * apostrophe keeps "don't" one word), optional English stop words, optional S-stemming.
 */

/** Lucene's default English stop set (EnglishAnalyzer), the one Anserini/Pyserini BM25 baselines use. */
export const englishStopWords: ReadonlyArray<string> = [
  "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of",
  "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with"
]

export interface TokenizerOptions {
  /** Default true. */
  readonly lowercase?: boolean
  /** "english" (Lucene's list), a custom list, or none (default). */
  readonly stopWords?: "english" | "none" | ReadonlyArray<string>
  /** Harman's S-stemmer (plural folding); off by default. */
  readonly stem?: boolean
}

export interface Tokenizer {
  readonly options: Required<{ readonly lowercase: boolean; readonly stem: boolean }> & { readonly stopWords: ReadonlyArray<string> }
  readonly tokenize: (text: string) => Array<string>
}

/**
 * Harman (1991) S-stemmer: "-ies" -> "-y" (not after e/a), "-es" -> "-e" (not after a/e/o),
 * "-s" dropped (not after u/s). Conservative: it folds plurals and nothing else.
 */
export const sStem = (w: string): string => {
  if (w.length > 3 && w.endsWith("ies") && !w.endsWith("eies") && !w.endsWith("aies")) return w.slice(0, -3) + "y"
  if (w.length > 3 && w.endsWith("es") && !w.endsWith("aes") && !w.endsWith("ees") && !w.endsWith("oes")) return w.slice(0, -1)
  if (w.length > 2 && w.endsWith("s") && !w.endsWith("us") && !w.endsWith("ss")) return w.slice(0, -1)
  return w
}

const word = /[\p{L}\p{M}\p{N}]+(?:['\u2019][\p{L}\p{M}\p{N}]+)*/gu

export const make = (options: TokenizerOptions = {}): Tokenizer => {
  const lowercase = options.lowercase ?? true
  const stem = options.stem ?? false
  const list = options.stopWords === undefined || options.stopWords === "none" ? [] : options.stopWords === "english" ? englishStopWords : options.stopWords
  const stop = new Set(list.map((w) => (lowercase ? w.toLowerCase() : w)))
  return {
    options: { lowercase, stem, stopWords: [...stop] },
    tokenize: (text) => {
      let norm = text.normalize("NFKC")
      if (lowercase) norm = norm.toLowerCase()
      if (norm.includes("\u2019")) norm = norm.replace(/\u2019/g, "'")
      // String.match returns plain strings: several times faster than matchAll's match objects.
      const words = norm.match(word)
      if (words === null) return []
      if (stop.size === 0 && !stem) return words
      const out: Array<string> = []
      for (const t of words) if (!stop.has(t)) out.push(stem ? sStem(t) : t)
      return out
    }
  }
}
