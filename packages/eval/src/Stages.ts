import * as path from "node:path"
import { metric, Params, Ports, PortType, PositiveInt, Stage, StageContext, StageError, type Vectors, withDefault } from "@embedflow/core"
import { Effect, Schema } from "effect"
import * as Report from "./Report.js"
import * as Retrieval from "./Retrieval.js"
import { type EvalReport, summarize } from "./Summary.js"
import { evaluateSts, type Matrix } from "./Sts.js"

const fail = (message: string) => new StageError({ message })

/** The summary-table labels a report carries, leaving out those not given (JSON has no undefined). */
const labels = (params: { readonly method?: string; readonly dataset?: string }) => ({
  ...(params.method !== undefined ? { method: params.method } : {}),
  ...(params.dataset !== undefined ? { dataset: params.dataset } : {})
})

/**
 * Rows of `embeddings` for each pair side: pair text -> sentence id (via `sentences`) -> row (via
 * `embeddings.ids`, or the sentences' order when the embeddings carry no ids).
 */
export const pairMatrices = (
  pairs: ReadonlyArray<Ports.ScoredPair>,
  sentences: ReadonlyArray<Ports.TextRecord>,
  embeddings: Vectors
): { a: Matrix; b: Matrix } => {
  const idOfText = new Map(sentences.map((s) => [s.text, s.id]))
  const rowOfId = new Map((embeddings.ids ?? sentences.map((s) => s.id)).map((id, i) => [id, i]))
  if (!embeddings.ids && sentences.length !== embeddings.count) {
    throw new Error(`embeddings have no ids and ${embeddings.count} rows for ${sentences.length} sentences; expected one row per sentence`)
  }
  const { dim } = embeddings
  const a = new Float32Array(pairs.length * dim)
  const b = new Float32Array(pairs.length * dim)
  const copy = (text: string, out: Float32Array, i: number, pairId: string) => {
    const id = idOfText.get(text)
    if (id === undefined) throw new Error(`pair ${pairId}: sentence ${JSON.stringify(text.slice(0, 60))} is not among the sentences input`)
    const row = rowOfId.get(id)
    if (row === undefined) throw new Error(`pair ${pairId}: sentence id '${id}' has no embedding`)
    out.set(embeddings.data.subarray(row * dim, (row + 1) * dim), i * dim)
  }
  pairs.forEach((p, i) => {
    copy(p.a, a, i, p.id)
    copy(p.b, b, i, p.id)
  })
  return { a: { dim, count: pairs.length, data: a }, b: { dim, count: pairs.length, data: b } }
}

export const sts = Stage.make({
  name: "eval/sts",
  version: "1",
  description: "STS: Spearman and Pearson of embedding cosines against gold scores (fractions; x100 for papers)",
  params: Schema.Struct({
    title: withDefault(Schema.String, "STS"),
    method: Schema.optionalKey(Params.describe(Schema.String, "row label in summary tables (default: title)")),
    dataset: Schema.optionalKey(Params.describe(Schema.String, "column group in summary tables (default: title)"))
  }),
  inputs: { pairs: Ports.ScoredPairs, sentences: Ports.Texts, embeddings: Ports.Embeddings },
  outputs: { report: Ports.Report },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const { a, b } = yield* Effect.try({
        try: () => pairMatrices(inputs.pairs, inputs.sentences, inputs.embeddings),
        catch: (e) => fail(`eval/sts: ${(e as Error).message}`)
      })
      const r = yield* evaluateSts(a, b, inputs.pairs.map((p) => p.score)).pipe(Effect.mapError((e) => fail(e.message)))
      yield* metric("spearman", r.spearman)
      yield* metric("pearson", r.pearson)
      // "all": one correlation over every pair, the aggregation MTEB uses (papers sometimes average per-subset ones).
      return { report: { task: "sts", title: params.title, ...labels(params), ...r, aggregation: "all" } }
    })
})

export const retrieval = Stage.make({
  name: "eval/retrieval",
  version: "1",
  description: "ranked retrieval against judgments: nDCG@k, MAP@k, Recall@k, P@k, MRR@k, MAP (trec_eval semantics)",
  params: Schema.Struct({
    title: withDefault(Schema.String, "retrieval"),
    ks: withDefault(Schema.Array(PositiveInt), [1, 3, 5, 10, 100]),
    method: Schema.optionalKey(Params.describe(Schema.String, "row label in summary tables (default: title)")),
    dataset: Schema.optionalKey(Params.describe(Schema.String, "column group in summary tables (default: title)"))
  }),
  inputs: { candidates: Ports.Candidates, qrels: Ports.Qrels },
  outputs: { report: Ports.Report },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const run: Record<string, Array<readonly [string, number]>> = {}
      for (const c of inputs.candidates) (run[c.queryId] ??= []).push([c.docId, c.score])
      const qrels: Record<string, Record<string, number>> = {}
      for (const q of inputs.qrels) (qrels[q.queryId] ??= {})[q.docId] = q.relevance
      const r = Retrieval.evaluateRun(run, qrels, { ks: params.ks })
      if (r.queries === 0) return yield* fail("eval/retrieval: the judgments have no relevant document for any query")
      if (r.missingFromRun.length === r.queries) {
        return yield* fail(`eval/retrieval: none of the ${r.queries} judged queries appears in the candidates (query ids differ?)`)
      }
      for (const k of params.ks) yield* metric(`ndcg_at_${k}`, r.metrics[`ndcg_at_${k}`]!)
      return { report: { task: "retrieval", title: params.title, ...labels(params), queries: r.queries, missingFromRun: r.missingFromRun, metrics: r.metrics } }
    })
})

export const table = Stage.make({
  name: "eval/table",
  version: "1",
  description: "one summary table (Markdown + JSON) from many eval reports: a row per method, a column per data set and metric",
  params: Schema.Struct({
    title: withDefault(Schema.String, "results"),
    metrics: withDefault(Schema.Array(Schema.String), ["spearman", "ndcg_at_10", "recall_at_100"]),
    percent: withDefault(Params.describe(Schema.Boolean, "show fractions x100, as papers do"), true),
    notes: withDefault(Schema.Array(Schema.String), [])
  }),
  inputs: { reports: PortType.list(Ports.Report) },
  outputs: { report: Ports.Report, files: Ports.Folder },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const summary = summarize(inputs.reports as ReadonlyArray<EvalReport>, params)
      const format = { digits: 3, percent: params.percent ? summary.columns.filter((c) => c !== "method") : [] }
      const markdown = Report.toMarkdown(summary, format)
      const dir = path.join(ctx.scratchDir, "report")
      yield* Report.writeReport(summary, { markdown: path.join(dir, "report.md"), json: path.join(dir, "report.json") }, format).pipe(
        Effect.mapError((e) => fail(e.message))
      )
      return { report: { ...summary, markdown }, files: { path: dir } }
    })
})
