/**
 * The k-means-diverse demonstration baseline: the pool's embeddings are clustered into k clusters
 * (seeded mini-batch k-means from @embedflow/eval) and each cluster gives the member nearest its
 * centre, so the k demonstrations cover the pool's regions instead of one neighbourhood. The set is
 * the same for every query (it does not look at the query), except that a query is never its own
 * demonstration: the next-nearest member of that cluster takes its place.
 */
import type { Ports, Vectors } from "@embedflow/core"
import { miniBatchKMeans } from "@embedflow/eval"

type LabeledExample = Ports.LabeledExample

export interface DiverseSelection {
  /** Per cluster (largest first), its members' pool indices sorted by distance to the centre, nearest first. */
  readonly clusters: ReadonlyArray<ReadonlyArray<number>>
}

/**
 * Clusters the pool (rows of `embeddings`, matched to `pool` by id, or by order when the embeddings
 * carry no ids) into `k` clusters. Clusters are ordered largest first (ties: lower centre index).
 */
export const clusterPool = (pool: ReadonlyArray<LabeledExample>, embeddings: Vectors, k: number, seed: number): DiverseSelection => {
  const { dim } = embeddings
  const rowOf = new Map((embeddings.ids ?? pool.map((e) => e.id)).map((id, i) => [id, i]))
  if (!embeddings.ids && embeddings.count !== pool.length) {
    throw new Error(`k-means diverse: the embeddings have no ids and ${embeddings.count} rows for ${pool.length} pool examples`)
  }
  if (k > pool.length) throw new Error(`k-means diverse: k = ${k} clusters but the pool has ${pool.length} examples`)
  const data = new Float32Array(pool.length * dim)
  pool.forEach((e, i) => {
    const r = rowOf.get(e.id)
    if (r === undefined) throw new Error(`k-means diverse: pool example '${e.id}' has no embedding; embed the same pool`)
    data.set(embeddings.data.subarray(r * dim, (r + 1) * dim), i * dim)
  })
  const { centers, labels } = miniBatchKMeans({ rows: pool.length, cols: dim, data }, { k, seed })
  const distance = (i: number, c: number) => {
    let s = 0
    for (let j = 0; j < dim; j++) s += (data[i * dim + j]! - centers.data[c * dim + j]!) ** 2
    return s
  }
  const members: Array<Array<number>> = Array.from({ length: k }, () => [])
  labels.forEach((c, i) => members[c]!.push(i))
  const clusters = members
    .map((m, c) => ({ c, m: m.map((i) => ({ i, d: distance(i, c) })).sort((a, b) => a.d - b.d || a.i - b.i).map((x) => x.i) }))
    .filter((x) => x.m.length > 0)
    .sort((a, b) => b.m.length - a.m.length || a.c - b.c)
    .map((x) => x.m)
  return { clusters }
}

/**
 * The demonstrations of one query, best first (the largest cluster's representative first): per
 * cluster its member nearest the centre that is not the query. A cluster holding only the query
 * gives nothing; the remaining places go to the clusters' next-nearest members, round-robin, so the
 * query still gets k demonstrations when the pool has them.
 */
export const diverseDemonstrations = (
  selection: DiverseSelection,
  pool: ReadonlyArray<LabeledExample>,
  query: LabeledExample,
  k: number
): Array<LabeledExample> => {
  const lists = selection.clusters.map((members) => members.filter((i) => pool[i]!.id !== query.id))
  const chosen: Array<LabeledExample> = []
  for (let depth = 0; chosen.length < k; depth++) {
    let added = false
    for (const list of lists) {
      if (chosen.length >= k) break
      if (depth < list.length) {
        chosen.push(pool[list[depth]!]!)
        added = true
      }
    }
    if (!added) break
  }
  return chosen
}
