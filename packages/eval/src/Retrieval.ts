/**
 * Ranked-retrieval metrics with the semantics of trec_eval / pytrec_eval as MTEB uses them:
 * a judged document is relevant when its relevance is > 0; nDCG uses linear gain (the relevance
 * value) and a log2(rank + 1) discount with the ideal ranking built from all judgments of the
 * query; MAP@k divides by all relevant documents, not min(k, R); MRR@k is 0 when nothing
 * relevant is in the top k.
 */

/** `{ queryId: { docId: relevance } }`. */
export type Qrels = Readonly<Record<string, Readonly<Record<string, number>>>>
/** `{ queryId: [[docId, score], …] }`, in any order: {@link ranking} sorts it. */
export type Run = Readonly<Record<string, ReadonlyArray<readonly [docId: string, score: number]>>>

/**
 * Document ids by score descending; ties by document id descending (trec_eval's rule, so results
 * match it exactly on tied scores). Repeated ids keep their first (best) position.
 */
export const ranking = (results: ReadonlyArray<readonly [string, number]>): Array<string> => {
  const sorted = [...results].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? 1 : x[0] > y[0] ? -1 : 0))
  const seen = new Set<string>()
  const out: Array<string> = []
  for (const [id] of sorted) {
    if (!seen.has(id)) {
      seen.add(id)
      out.push(id)
    }
  }
  return out
}

const countRelevant = (rels: Readonly<Record<string, number>>): number => {
  let n = 0
  for (const k in rels) if (rels[k]! > 0) n++
  return n
}

export const dcgAtK = (ranked: ReadonlyArray<string>, rels: Readonly<Record<string, number>>, k: number): number => {
  let dcg = 0
  const n = Math.min(k, ranked.length)
  for (let i = 0; i < n; i++) {
    const g = rels[ranked[i]!] ?? 0
    if (g > 0) dcg += g / Math.log2(i + 2)
  }
  return dcg
}

export const ndcgAtK = (ranked: ReadonlyArray<string>, rels: Readonly<Record<string, number>>, k: number): number => {
  const ideal = Object.values(rels).filter((g) => g > 0).sort((a, b) => b - a)
  let idcg = 0
  for (let i = 0; i < Math.min(k, ideal.length); i++) idcg += ideal[i]! / Math.log2(i + 2)
  return idcg === 0 ? 0 : dcgAtK(ranked, rels, k) / idcg
}

export const recallAtK = (ranked: ReadonlyArray<string>, rels: Readonly<Record<string, number>>, k: number): number => {
  const total = countRelevant(rels)
  if (total === 0) return 0
  let hit = 0
  for (let i = 0; i < Math.min(k, ranked.length); i++) if ((rels[ranked[i]!] ?? 0) > 0) hit++
  return hit / total
}

export const precisionAtK = (ranked: ReadonlyArray<string>, rels: Readonly<Record<string, number>>, k: number): number => {
  let hit = 0
  for (let i = 0; i < Math.min(k, ranked.length); i++) if ((rels[ranked[i]!] ?? 0) > 0) hit++
  // trec_eval's P@k divides by k even when fewer than k documents were retrieved.
  return hit / k
}

export const mrrAtK = (ranked: ReadonlyArray<string>, rels: Readonly<Record<string, number>>, k: number): number => {
  for (let i = 0; i < Math.min(k, ranked.length); i++) if ((rels[ranked[i]!] ?? 0) > 0) return 1 / (i + 1)
  return 0
}

/** Average precision over the top k (all of the list by default), divided by the number of relevant documents. */
export const averagePrecision = (ranked: ReadonlyArray<string>, rels: Readonly<Record<string, number>>, k = Infinity): number => {
  const total = countRelevant(rels)
  if (total === 0) return 0
  let hit = 0
  let sum = 0
  for (let i = 0; i < Math.min(k, ranked.length); i++) {
    if ((rels[ranked[i]!] ?? 0) > 0) {
      hit++
      sum += hit / (i + 1)
    }
  }
  return sum / total
}

export interface RetrievalResult {
  /** Mean over evaluated queries, MTEB names: `ndcg_at_10`, `recall_at_100`, `mrr_at_10`, `map_at_10`, `precision_at_1`, `map`. */
  readonly metrics: Readonly<Record<string, number>>
  readonly perQuery: Readonly<Record<string, Readonly<Record<string, number>>>>
  /** Queries with at least one relevant judgment: the ones averaged over. */
  readonly queries: number
  /** Evaluated queries the run has no results for (they score 0 everywhere). */
  readonly missingFromRun: ReadonlyArray<string>
}

export const defaultKs: ReadonlyArray<number> = [1, 3, 5, 10, 100, 1000]

/**
 * Evaluates a run over every query that has a relevant judgment. A query missing from the run
 * counts as 0 rather than being dropped (trec_eval -c), so a retriever cannot gain by skipping queries.
 */
export const evaluateRun = (run: Run, qrels: Qrels, options: { readonly ks?: ReadonlyArray<number> } = {}): RetrievalResult => {
  const ks = options.ks ?? defaultKs
  for (const k of ks) if (!Number.isInteger(k) || k < 1) throw new RangeError(`cut-off k must be a positive integer, got ${k}`)
  const perQuery: Record<string, Record<string, number>> = {}
  const missing: Array<string> = []
  const sums: Record<string, number> = {}
  const queryIds = Object.keys(qrels).filter((q) => countRelevant(qrels[q]!) > 0)
  for (const q of queryIds) {
    const rels = qrels[q]!
    const results = run[q]
    if (results === undefined) missing.push(q)
    const ranked = results === undefined ? [] : ranking(results)
    const m: Record<string, number> = {}
    for (const k of ks) {
      m[`ndcg_at_${k}`] = ndcgAtK(ranked, rels, k)
      m[`map_at_${k}`] = averagePrecision(ranked, rels, k)
      m[`recall_at_${k}`] = recallAtK(ranked, rels, k)
      m[`precision_at_${k}`] = precisionAtK(ranked, rels, k)
      m[`mrr_at_${k}`] = mrrAtK(ranked, rels, k)
    }
    m.map = averagePrecision(ranked, rels)
    perQuery[q] = m
    for (const [name, v] of Object.entries(m)) sums[name] = (sums[name] ?? 0) + v
  }
  const n = queryIds.length
  const metrics: Record<string, number> = {}
  for (const [name, s] of Object.entries(sums)) metrics[name] = s / n
  return { metrics, perQuery, queries: n, missingFromRun: missing }
}
