import type { Ports } from "@embedflow/core"
import type { IrCollection } from "@embedflow/data"

type Candidate = Ports.Candidate
type LabeledExample = Ports.LabeledExample
import { Effect } from "effect"
import { evaluateClassification, undersamplingPlan } from "./Classification.js"
import { pearson, spearman } from "./Correlation.js"
import { miniBatchKMeans } from "./MiniBatchKMeans.js"
import { type MtebResult, mtebResult, revisionOf } from "./MtebResult.js"
import { EvalError } from "./EvalError.js"
import { evaluatePairClassificationAll } from "./PairClassification.js"
import { evaluateReranking } from "./Reranking.js"
import * as Retrieval from "./Retrieval.js"
import { type Matrix, pairwiseCosine } from "./Sts.js"
import { vMeasure } from "./VMeasure.js"

/**
 * Each MTEB task type as a function of its data and an `embed` function: what `embedflow eval` and
 * the eval/* graph stages both run. Each returns the task's MTEB result (one split, subset "default").
 */
export type Embed<E = never, R = never> = (texts: ReadonlyArray<string>) => Effect.Effect<Matrix, E, R>

const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const start = performance.now()
    const value = yield* effect
    return { value, seconds: (performance.now() - start) / 1000 }
  })

/** Rows of `m` at the given indices. */
const gather = (m: Matrix, rows: ArrayLike<number>): Matrix => {
  const data = new Float32Array(rows.length * m.dim)
  for (let i = 0; i < rows.length; i++) data.set(m.data.subarray(rows[i]! * m.dim, (rows[i]! + 1) * m.dim), i * m.dim)
  return { dim: m.dim, count: rows.length, data }
}

/** Embeds the distinct texts once; returns the row of each input text. */
/** Both sides of each pair embedded (each distinct text once): row i of `a` and `b` is pair i. */
const embedPairs = <E, R>(embed: Embed<E, R>, pairs: ReadonlyArray<Ports.ScoredPair>) =>
  Effect.map(embedDistinct(embed, pairs.flatMap((p) => [p.a, p.b])), ({ m, rows }) => ({
    a: gather(m, rows.filter((_, i) => i % 2 === 0)),
    b: gather(m, rows.filter((_, i) => i % 2 === 1))
  }))

const embedDistinct = <E, R>(embed: Embed<E, R>, texts: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const index = new Map<string, number>()
    for (const t of texts) if (!index.has(t)) index.set(t, index.size)
    const m = yield* embed([...index.keys()])
    return { m, rows: Int32Array.from(texts, (t) => index.get(t)!) }
  })

const asTensor = (m: Matrix) => ({ rows: m.count, cols: m.dim, data: m.data })

/**
 * STS: cosine Spearman (main score) and Pearson over all pairs of the split concatenated — the
 * `aggregation` field says so, since papers also report means over per-subset correlations.
 */
export const sts = <E, R>(task: string, split: string, pairs: ReadonlyArray<Ports.ScoredPair>, embed: Embed<E, R>) =>
  Effect.gen(function* () {
    const { value, seconds } = yield* timed(
      Effect.gen(function* () {
        const { a, b } = yield* embedPairs(embed, pairs)
        const cos = pairwiseCosine(a, b)
        const gold = pairs.map((p) => p.score)
        return { cosine_spearman: spearman(cos, gold), cosine_pearson: pearson(cos, gold) }
      })
    )
    return mtebResult({
      task,
      split,
      mainScore: value.cosine_spearman,
      metrics: {
        ...value,
        spearman: value.cosine_spearman,
        pearson: value.cosine_pearson,
        aggregation: "all: one correlation over every pair of the split (not a mean of per-subset correlations)",
        pairs: pairs.length
      },
      revision: revisionOf(pairs),
      seconds
    })
  })

/** Pair classification: pairs scored 1 (similar) or 0; main score max_ap over cosine, dot, Euclidean, Manhattan (MTEB 1.14). */
export const pairClassification = <E, R>(task: string, split: string, pairs: ReadonlyArray<Ports.ScoredPair>, embed: Embed<E, R>) =>
  Effect.gen(function* () {
    const { value, seconds } = yield* timed(
      Effect.gen(function* () {
        const { a, b } = yield* embedPairs(embed, pairs)
        return evaluatePairClassificationAll(a, b, pairs.map((p) => p.score))
      })
    )
    return mtebResult({ task, split, mainScore: value.max_ap!, metrics: { ...value, pairs: pairs.length }, revision: revisionOf(pairs), seconds })
  })

export interface ClassificationTaskOptions {
  readonly seed: number
  readonly nExperiments?: number
  readonly samplesPerLabel?: number
}

/** Classification: MTEB's undersampled logistic-regression protocol; only the sampled training texts are embedded. */
export const classification = <E, R>(
  task: string,
  split: string,
  train: ReadonlyArray<LabeledExample>,
  test: ReadonlyArray<LabeledExample>,
  embed: Embed<E, R> | { readonly train: Embed<E, R>; readonly test: Embed<E, R> },
  options: ClassificationTaskOptions
) =>
  Effect.gen(function* () {
    const embedTest = typeof embed === "function" ? embed : embed.test
    const embedTrain = typeof embed === "function" ? embed : embed.train
    const { value, seconds } = yield* timed(
      Effect.gen(function* () {
        const testEmb = yield* embedDistinct(embedTest, test.map((e) => e.text))
        const testM = gather(testEmb.m, testEmb.rows)
        // Embed the union of every experiment's sample once, then hand each experiment its rows.
        const trainLabels = train.map((e) => e.label)
        const plan = undersamplingPlan(trainLabels, options)
        const used = [...new Set(plan.flatMap((p) => Array.from(p)))].sort((x, y) => x - y)
        const trainEmb = yield* embedDistinct(embedTrain, used.map((i) => train[i]!.text))
        const rowOf = new Map(used.map((i, j) => [i, trainEmb.rows[j]!]))
        return evaluateClassification(
          trainLabels,
          (idx) => asTensor(gather(trainEmb.m, Array.from(idx, (i) => rowOf.get(i)!))),
          test.map((e) => e.label),
          asTensor(testM),
          options
        )
      })
    )
    return mtebResult({
      task,
      split,
      mainScore: value.accuracy,
      metrics: { ...value, train_examples: train.length, test_examples: test.length },
      revision: revisionOf([train, test]),
      seconds
    })
  })

/** Clustering: mini-batch k-means (k = number of labels, batch 500, as MTEB's ClusteringEvaluator) and V-measure. */
export const clustering = <E, R>(task: string, split: string, examples: ReadonlyArray<LabeledExample>, embed: Embed<E, R>, options: { readonly seed: number }) =>
  Effect.gen(function* () {
    const { value, seconds } = yield* timed(
      Effect.gen(function* () {
        const { m, rows } = yield* embedDistinct(embed, examples.map((e) => e.text))
        const x = gather(m, rows)
        const labels = examples.map((e) => e.label)
        const k = new Set(labels).size
        const km = miniBatchKMeans(asTensor(x), { k, batchSize: 500, seed: options.seed })
        return { ...vMeasure(labels, km.labels), clusters: k, kmeans_steps: km.steps }
      })
    )
    return mtebResult({ task, split, mainScore: value.v_measure, metrics: { ...value, examples: examples.length }, revision: revisionOf(examples), seconds })
  })

/** Dense retrieval as a caller-supplied search (exact inner product over normalised vectors); metrics as eval/retrieval. */
export type Search<E, R> = (corpus: Matrix & { ids: ReadonlyArray<string> }, queries: Matrix & { ids: ReadonlyArray<string> }, k: number) => Effect.Effect<ReadonlyArray<Candidate>, E, R>

const normalizeRows = (m: Matrix): Matrix => {
  const data = m.data.slice()
  for (let r = 0; r < m.count; r++) {
    let s = 0
    for (let j = 0; j < m.dim; j++) s += data[r * m.dim + j]! ** 2
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0
    for (let j = 0; j < m.dim; j++) data[r * m.dim + j]! *= inv
  }
  return { dim: m.dim, count: m.count, data }
}

const qrelsTable = (qrels: ReadonlyArray<IrCollection.Qrel>) => {
  const out: Record<string, Record<string, number>> = {}
  for (const q of qrels) (out[q.queryId] ??= {})[q.docId] = q.relevance
  return out
}

export const retrieval = <E, R, E2, R2>(
  task: string,
  split: string,
  documents: ReadonlyArray<Ports.TextRecord>,
  queries: ReadonlyArray<Ports.TextRecord>,
  qrels: ReadonlyArray<IrCollection.Qrel>,
  embed: Embed<E, R>,
  search: Search<E2, R2>
) =>
  Effect.gen(function* () {
    const { value, seconds } = yield* timed(
      Effect.gen(function* () {
        const d = normalizeRows(yield* embed(documents.map((x) => x.text)))
        const q = normalizeRows(yield* embed(queries.map((x) => x.text)))
        const candidates = yield* search({ ...d, ids: documents.map((x) => x.id) }, { ...q, ids: queries.map((x) => x.id) }, 1000)
        const run: Record<string, Array<readonly [string, number]>> = {}
        for (const c of candidates) (run[c.queryId] ??= []).push([c.docId, c.score])
        return Retrieval.evaluateRun(run, qrelsTable(qrels), { ks: [1, 3, 5, 10, 100, 1000] })
      })
    )
    return mtebResult({
      task,
      split,
      mainScore: value.metrics.ndcg_at_10!,
      metrics: { ...value.metrics, queries: value.queries },
      revision: revisionOf([documents, queries, qrels]),
      seconds
    })
  })

/**
 * Reranking: each judged query's candidates are its relevant documents (from the judgments) plus
 * the irrelevant ones among `candidates` (e.g. BM25's top k); MAP (main score) and MRR@10.
 */
export const reranking = <E, R>(
  task: string,
  split: string,
  documents: ReadonlyArray<Ports.TextRecord>,
  queries: ReadonlyArray<Ports.TextRecord>,
  qrels: ReadonlyArray<IrCollection.Qrel>,
  candidates: ReadonlyArray<Candidate>,
  embed: Embed<E, R> | { readonly documents: Embed<E, R>; readonly queries: Embed<E, R> },
  options: { readonly negatives?: number } = {}
) =>
  Effect.gen(function* () {
    const embedDocuments = typeof embed === "function" ? embed : embed.documents
    const embedQueries = typeof embed === "function" ? embed : embed.queries
    const { value, seconds } = yield* timed(
      Effect.gen(function* () {
        const rel = qrelsTable(qrels)
        const docIndex = new Map(documents.map((d, i) => [d.id, i]))
        const byQuery = new Map<string, Array<Candidate>>()
        for (const c of candidates) (byQuery.get(c.queryId) ?? byQuery.set(c.queryId, []).get(c.queryId)!).push(c)
        const samples = queries.flatMap((q) => {
          const positives = Object.entries(rel[q.id] ?? {}).filter(([, g]) => g > 0).map(([d]) => d)
          const negatives = (byQuery.get(q.id) ?? [])
            .sort((a, b) => a.rank - b.rank)
            .filter((c) => !((rel[q.id]?.[c.docId] ?? 0) > 0))
            .slice(0, options.negatives ?? Infinity)
            .map((c) => c.docId)
          return positives.length > 0 && negatives.length > 0 ? [{ query: q, docs: [...positives, ...negatives], positives: positives.length }] : []
        })
        const docs = [...new Set(samples.flatMap((s) => s.docs))]
        const missing = docs.find((d) => !docIndex.has(d))
        if (missing !== undefined) return yield* new EvalError({ message: `${task}: candidate document '${missing}' is not among the documents` })
        const docM = normalizeRows(yield* embedDocuments(docs.map((d) => documents[docIndex.get(d)!]!.text)))
        const docRow = new Map(docs.map((d, i) => [d, i]))
        const qM = normalizeRows(yield* embedQueries(samples.map((s) => s.query.text)))
        const instances = samples.map((s, qi) => {
          const scores = s.docs.map((d) => {
            const r = docRow.get(d)!
            let dot = 0
            for (let j = 0; j < qM.dim; j++) dot += qM.data[qi * qM.dim + j]! * docM.data[r * docM.dim + j]!
            return dot
          })
          return { scores, relevant: s.docs.map((_, i) => i < s.positives) }
        })
        const r = evaluateReranking(instances, 10)
        return { map: r.map, mrr_at_10: r.mrr, queries: r.instances, candidates_per_query: instances.reduce((n, i) => n + i.scores.length, 0) / Math.max(1, instances.length) }
      })
    )
    return mtebResult({ task, split, mainScore: value.map, metrics: value, revision: revisionOf([documents.length, queries, qrels, candidates.map((c) => [c.queryId, c.docId])]), seconds })
  })

export type { MtebResult }
