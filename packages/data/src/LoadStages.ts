import { NonNegativeInt, Params, Ports, type PortType, PositiveInt, progress, Stage, StageContext, StageError, withDefault } from "@embedflow/core"
import { Effect, Schema } from "effect"
import { loadBeir } from "./Beir.js"
import type { Shape } from "./ColumnMapping.js"
import { Format, load, type LoadError, type LoadReport, OnError, type Tick } from "./LoadData.js"

const commonParams = {
  path: Params.filePath("a file or folder (relative to the graph file): JSONL, CSV, TSV, Parquet; folders of shards (Hugging Face layout)"),
  format: withDefault(Format, "auto"),
  columns: withDefault(Params.describe(Schema.Record(Schema.String, Schema.String), "field -> column name, overriding the defaults"), {}),
  split: Schema.optionalKey(Params.describe(Schema.String, "for folders: the split whose files to read (train, validation, test)")),
  limit: Schema.optionalKey(Params.describe(PositiveInt, "stop after this many rows")),
  sample: Schema.optionalKey(Params.describe(PositiveInt, "keep this many rows drawn at random (seeded; file order kept)")),
  seed: Schema.optionalKey(Params.describe(NonNegativeInt, "seed of `sample` (default: the node's seed)")),
  onError: withDefault(Params.describe(OnError, "fail on the first malformed row, or skip such rows and list them in the report"), "fail")
}
const LoadParams = Schema.Struct(commonParams)
type LoadParams = typeof LoadParams.Type

const toStageError = (nodeId: string) => (e: LoadError) => new StageError({ message: `${nodeId}: ${e.message}`, cause: e })

const reportProgress = (t: Tick) => progress(t.done, t.total, t.files > 1 ? `${t.unit} of file ${t.fileIndex + 1}/${t.files}` : t.unit)

const loadWith = (shape: Shape, params: LoadParams) =>
  Effect.gen(function* () {
    const ctx = yield* StageContext
    const loaded = yield* load(
      ctx.resolvePath(params.path),
      {
        shape,
        columns: params.columns,
        format: params.format,
        split: params.split,
        limit: params.limit,
        sample: params.sample,
        seed: params.seed ?? ctx.seed,
        onError: params.onError,
        idPrefix: `${ctx.nodeId}-`
      },
      reportProgress
    ).pipe(Effect.mapError(toStageError(ctx.nodeId)))
    if (loaded.report.skipped > 0) yield* ctx.log(`skipped ${loaded.report.skipped} malformed rows (listed in the report)`)
    return loaded
  })

const describeReport = (r: LoadReport) => ({ ...r, files: r.files.map((f) => ({ ...f })) })

const loader = <P extends PortType.PortType<any>>(shape: Shape, port: P, output: string, description: string) =>
  Stage.make({
    name: `data/load-${shape}`,
    version: "1",
    description,
    params: LoadParams,
    inputs: {},
    outputs: { [output]: port, report: Ports.Report } as { [k: string]: P | typeof Ports.Report },
    run: (params) =>
      Effect.gen(function* () {
        const loaded = yield* loadWith(shape, params)
        return { [output]: loaded.records, report: describeReport(loaded.report) }
      })
  })

export const loadTexts = loader("texts", Ports.Texts, "texts", "texts with ids from your files (columns `id`, `text`; a `title` is prepended)")
export const loadPairs = loader("pairs", Ports.Triples, "pairs", "(anchor, positive) pairs: `query`/`pos` (FlagEmbedding), `anchor`/`positive` (sentence-transformers), `sentence1`/`sentence2`")
export const loadTriples = loader("triples", Ports.Triples, "triples", "(anchor, positive, negative) triples, one per negative: `query`/`pos`/`neg` lists, `anchor`/`positive`/`negative`, `negative_1..n`")
export const loadScoredPairs = loader("scored-pairs", Ports.ScoredPairs, "pairs", "scored sentence pairs: `sentence1`, `sentence2`, `score`")
export const loadLabelled = loader("labelled", Ports.LabeledExamples, "examples", "labelled examples: `text`, `label` (numbers become their decimal text)")
export const loadQrels = loader("qrels", Ports.Qrels, "qrels", "relevance judgments: `query-id`, `corpus-id`, `score` (BEIR's qrels TSV)")
export const loadCandidates = loader("candidates", Ports.Candidates, "candidates", "ranked candidates: `query-id`, `corpus-id`, `score`, optional `rank` (else by score) and `text`")

export const loadBeirStage = Stage.make({
  name: "data/load-beir",
  version: "1",
  description: "a BEIR folder: corpus.jsonl, queries.jsonl (the split's judged queries), qrels/<split>.tsv",
  params: Schema.Struct({
    path: Params.folderPath("the BEIR folder (relative to the graph file)"),
    split: withDefault(Schema.String, "test"),
    onError: withDefault(OnError, "fail")
  }),
  inputs: {},
  outputs: { documents: Ports.Texts, queries: Ports.Texts, qrels: Ports.Qrels, report: Ports.Report },
  run: (params) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const c = yield* loadBeir(ctx.resolvePath(params.path), params.split, { onError: params.onError }, reportProgress).pipe(
        Effect.mapError(toStageError(ctx.nodeId))
      )
      return {
        documents: c.documents,
        queries: c.queries,
        qrels: c.qrels,
        report: { corpus: describeReport(c.reports.corpus), queries: describeReport(c.reports.queries), qrels: describeReport(c.reports.qrels) }
      }
    })
})

export const loadStages = [loadTexts, loadPairs, loadTriples, loadScoredPairs, loadLabelled, loadQrels, loadCandidates, loadBeirStage] as const
