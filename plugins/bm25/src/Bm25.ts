import { TopK } from "./internal/TopK.js"
import * as Tokenizer from "./Tokenizer.js"

/**
 * Okapi BM25 over an in-memory corpus. Postings live in CSR typed arrays (term -> [doc, weight]),
 * where the weight is the document side of BM25 precomputed at build time:
 *   idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * |d| / avgdl)),  idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)).
 * A query sums weights over its terms, a repeated query term counting once per occurrence (as
 * Lucene and rank_bm25 do), then keeps the top k with a heap.
 */

export interface Options {
  /** Term-frequency saturation, default 1.2. */
  readonly k1?: number
  /** Length normalisation in [0, 1], default 0.75. */
  readonly b?: number
  readonly tokenizer?: Tokenizer.TokenizerOptions
}

export interface Document {
  readonly id: string
  readonly text: string
}

export interface Hit {
  readonly id: string
  /** Position of the document in the corpus given to {@link build}. */
  readonly index: number
  readonly score: number
}

export interface SearchOptions {
  /** Corpus positions never returned (the positives when mining negatives). */
  readonly exclude?: ReadonlySet<number>
}

export const idf = (documents: number, df: number): number => Math.log(1 + (documents - df + 0.5) / (df + 0.5))

export class Index {
  /** Term -> term id. */
  readonly vocabulary: ReadonlyMap<string, number>
  /** Postings of term t are [offsets[t], offsets[t + 1]). */
  readonly offsets: Uint32Array
  readonly postingDocs: Uint32Array
  readonly postingWeights: Float32Array
  readonly documentFrequency: Uint32Array
  readonly documentLengths: Uint32Array
  readonly averageLength: number
  private readonly acc: Float64Array
  private readonly touched: Uint32Array
  private readonly positions: ReadonlyMap<string, number>

  constructor(
    readonly ids: ReadonlyArray<string>,
    readonly tokenizer: Tokenizer.Tokenizer,
    readonly k1: number,
    readonly b: number,
    parts: {
      vocabulary: Map<string, number>
      offsets: Uint32Array
      postingDocs: Uint32Array
      postingWeights: Float32Array
      documentFrequency: Uint32Array
      documentLengths: Uint32Array
      averageLength: number
    }
  ) {
    this.vocabulary = parts.vocabulary
    this.offsets = parts.offsets
    this.postingDocs = parts.postingDocs
    this.postingWeights = parts.postingWeights
    this.documentFrequency = parts.documentFrequency
    this.documentLengths = parts.documentLengths
    this.averageLength = parts.averageLength
    this.acc = new Float64Array(ids.length)
    this.touched = new Uint32Array(ids.length)
    const positions = new Map<string, number>()
    ids.forEach((id, i) => positions.set(id, i))
    this.positions = positions
  }

  get size(): number {
    return this.ids.length
  }

  /** Corpus position of a document id. */
  position(id: string): number | undefined {
    return this.positions.get(id)
  }

  idf(term: string): number {
    const t = this.vocabulary.get(term)
    return idf(this.size, t === undefined ? 0 : this.documentFrequency[t]!)
  }

  /** (term id, occurrences) of a query's known terms. */
  private queryTerms(query: string | ReadonlyArray<string>): Map<number, number> {
    const tokens = typeof query === "string" ? this.tokenizer.tokenize(query) : query
    const terms = new Map<number, number>()
    for (const tok of tokens) {
      const t = this.vocabulary.get(tok)
      if (t !== undefined) terms.set(t, (terms.get(t) ?? 0) + 1)
    }
    return terms
  }

  /** Accumulates scores of documents sharing a term with the query; returns how many were touched. */
  private accumulate(query: string | ReadonlyArray<string>): number {
    const { acc, touched, offsets, postingDocs, postingWeights } = this
    let n = 0
    for (const [t, qtf] of this.queryTerms(query)) {
      for (let p = offsets[t]!, end = offsets[t + 1]!; p < end; p++) {
        const d = postingDocs[p]!
        // Weights are > 0 (idf > 0, tf > 0), so 0 means "not touched yet".
        if (acc[d] === 0) touched[n++] = d
        acc[d] += qtf * postingWeights[p]!
      }
    }
    return n
  }

  /** BM25 score of every document (0 for those sharing no term), mainly for checks and baselines. */
  scoreAll(query: string | ReadonlyArray<string>): Float64Array {
    const n = this.accumulate(query)
    const out = new Float64Array(this.size)
    for (let i = 0; i < n; i++) {
      const d = this.touched[i]!
      out[d] = this.acc[d]!
      this.acc[d] = 0
    }
    return out
  }

  /** The k best documents, best first; ties by corpus position. Documents sharing no term are never returned. */
  search(query: string | ReadonlyArray<string>, k: number, options: SearchOptions = {}): Array<Hit> {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`k must be a non-negative integer, got ${k}`)
    const n = this.accumulate(query)
    const heap = new TopK(Math.min(k, this.size))
    const exclude = options.exclude
    for (let i = 0; i < n; i++) {
      const d = this.touched[i]!
      if (exclude === undefined || !exclude.has(d)) heap.push(this.acc[d]!, d)
      this.acc[d] = 0
    }
    return heap.sorted().map(({ doc, score }) => ({ id: this.ids[doc]!, index: doc, score }))
  }

  searchBatch(queries: ReadonlyArray<string | ReadonlyArray<string>>, k: number, options: SearchOptions = {}): Array<Array<Hit>> {
    return queries.map((q) => this.search(q, k, options))
  }

  /**
   * Hard negatives for a query: the best-scoring documents that are not among `positives` (ids).
   * `skip` drops that many top non-positive hits first, which are the likeliest unlabeled positives.
   */
  hardNegatives(query: string | ReadonlyArray<string>, positives: Iterable<string>, k: number, options: { readonly skip?: number } = {}): Array<Hit> {
    const skip = options.skip ?? 0
    const exclude = new Set<number>()
    for (const id of positives) {
      const p = this.positions.get(id)
      if (p !== undefined) exclude.add(p)
    }
    return this.search(query, k + skip, { exclude }).slice(skip)
  }
}

export const build = (documents: ReadonlyArray<Document>, options: Options = {}): Index => {
  const k1 = options.k1 ?? 1.2
  const b = options.b ?? 0.75
  if (!(k1 >= 0) || !Number.isFinite(k1)) throw new RangeError(`k1 must be a finite number >= 0, got ${k1}`)
  if (!(b >= 0 && b <= 1)) throw new RangeError(`b must be in [0, 1], got ${b}`)
  const tokenizer = Tokenizer.make(options.tokenizer)
  const vocabulary = new Map<string, number>()
  const N = documents.length
  const seen = new Set<string>()
  // Pass 1: per-document (term, tf) runs, flattened.
  const docStart = new Uint32Array(N + 1)
  const documentLengths = new Uint32Array(N)
  let flatTerms: Array<number> = []
  let flatTfs: Array<number> = []
  const dfList: Array<number> = []
  let total = 0
  for (let d = 0; d < N; d++) {
    const doc = documents[d]!
    if (seen.has(doc.id)) throw new RangeError(`document id '${doc.id}' appears twice (positions ${[...seen].indexOf(doc.id)} and ${d}); ids must be unique`)
    seen.add(doc.id)
    const tokens = tokenizer.tokenize(doc.text)
    documentLengths[d] = tokens.length
    total += tokens.length
    const ids = new Int32Array(tokens.length)
    for (let i = 0; i < tokens.length; i++) {
      let t = vocabulary.get(tokens[i]!)
      if (t === undefined) {
        t = vocabulary.size
        vocabulary.set(tokens[i]!, t)
        dfList.push(0)
      }
      ids[i] = t
    }
    ids.sort()
    for (let i = 0; i < ids.length; ) {
      let j = i
      while (j < ids.length && ids[j] === ids[i]) j++
      flatTerms.push(ids[i]!)
      flatTfs.push(j - i)
      dfList[ids[i]!]!++
      i = j
    }
    docStart[d + 1] = flatTerms.length
  }
  const V = vocabulary.size
  const documentFrequency = Uint32Array.from(dfList)
  const offsets = new Uint32Array(V + 1)
  for (let t = 0; t < V; t++) offsets[t + 1] = offsets[t]! + documentFrequency[t]!
  const P = offsets[V]!
  const postingDocs = new Uint32Array(P)
  const postingWeights = new Float32Array(P)
  const fill = offsets.slice(0, V)
  const averageLength = N === 0 ? 0 : total / N
  const idfs = new Float64Array(V)
  for (let t = 0; t < V; t++) idfs[t] = idf(N, documentFrequency[t]!)
  // Pass 2: scatter into postings; docs are visited in order, so each list is sorted by doc.
  for (let d = 0; d < N; d++) {
    const norm = k1 * (1 - b + (averageLength === 0 ? 0 : (b * documentLengths[d]!) / averageLength))
    for (let p = docStart[d]!; p < docStart[d + 1]!; p++) {
      const t = flatTerms[p]!
      const tf = flatTfs[p]!
      const slot = fill[t]!++
      postingDocs[slot] = d
      postingWeights[slot] = (idfs[t]! * tf * (k1 + 1)) / (tf + norm)
    }
  }
  flatTerms = []
  flatTfs = []
  return new Index(
    documents.map((d) => d.id),
    tokenizer,
    k1,
    b,
    { vocabulary, offsets, postingDocs, postingWeights, documentFrequency, documentLengths, averageLength }
  )
}
