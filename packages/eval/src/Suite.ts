import type { Ports } from "@embedflow/core"
import { type DataError, IrCollection, labelledExamples, snliPairLabels, StsB } from "@embedflow/data"
import { Effect } from "effect"
import { EvalError } from "./EvalError.js"
import { type MtebResult, mainScoreOf, writeMtebResult } from "./MtebResult.js"
import { toMarkdown } from "./Report.js"
import * as Tasks from "./Tasks.js"

/**
 * The built-in suite over the shared data: one MTEB-style task per entry. Retrieval search and
 * reranking candidates come from the caller (the CLI passes faiss-index's exact search and BM25),
 * because eval — a package — may not import plugins.
 */
export const suiteTasks = {
  STSBenchmark: { type: "STS", split: "test", metric: "cosine_spearman" },
  SNLIPairClassification: { type: "PairClassification", split: "test", metric: "max_ap" },
  TRECClassification: { type: "Classification", split: "test", metric: "accuracy" },
  SST2Classification: { type: "Classification", split: "test", metric: "accuracy" },
  AGNewsClassification: { type: "Classification", split: "test", metric: "accuracy" },
  AGNewsClustering: { type: "Clustering", split: "test", metric: "v_measure" },
  CranfieldRetrieval: { type: "Retrieval", split: "test", metric: "ndcg_at_10" },
  CISIRetrieval: { type: "Retrieval", split: "test", metric: "ndcg_at_10" },
  CranfieldReranking: { type: "Reranking", split: "test", metric: "map" }
} as const
export type SuiteTask = keyof typeof suiteTasks
export const suiteTaskNames = Object.keys(suiteTasks) as ReadonlyArray<SuiteTask>

export interface SuiteProviders<E, R> {
  readonly embed: Tasks.Embed<E, R>
  readonly search: Tasks.Search<E, R>
  /** Reranking candidates for a collection's queries (e.g. BM25's top k). */
  readonly rerankCandidates: (documents: ReadonlyArray<Ports.TextRecord>, queries: ReadonlyArray<Ports.TextRecord>) => Effect.Effect<ReadonlyArray<Ports.Candidate>, E, R>
  /** Called after each task (progress). */
  readonly onResult?: (result: MtebResult) => Effect.Effect<void, never, R>
}

export interface SuiteOptions {
  readonly tasks?: ReadonlyArray<string> | undefined
  readonly seed?: number | undefined
  readonly dataRoot?: string | undefined
  /** MTEB's classification protocol: experiments and training examples per label. */
  readonly nExperiments?: number | undefined
  readonly samplesPerLabel?: number | undefined
  /** Irrelevant BM25 candidates per reranking query. */
  readonly rerankNegatives?: number | undefined
}

export const resolveTasks = (names: ReadonlyArray<string> | undefined): Array<SuiteTask> => {
  if (names === undefined || names.length === 0) return [...suiteTaskNames]
  const unknown = names.filter((n) => !(n in suiteTasks))
  if (unknown.length > 0) throw new EvalError({ message: `unknown task(s) ${unknown.join(", ")}; the suite has ${suiteTaskNames.join(", ")}` })
  return names as Array<SuiteTask>
}

const collectionTexts = (c: IrCollection.Collection) => ({
  documents: c.documents.map((d) => ({ id: d.id, text: IrCollection.documentText(d) })),
  queries: c.queries.map((q) => ({ id: q.id, text: q.text })),
  qrels: c.qrels
})

/** Runs the chosen tasks in suite order. */
export const runSuite = <E, R>(providers: SuiteProviders<E, R>, options: SuiteOptions = {}): Effect.Effect<Array<MtebResult>, E | DataError | EvalError, R> =>
  Effect.gen(function* () {
    const tasks = yield* Effect.try({ try: () => resolveTasks(options.tasks), catch: (e) => e as EvalError })
    const data = { root: options.dataRoot }
    const seed = options.seed ?? 42
    const cls = { seed, nExperiments: options.nExperiments ?? 10, samplesPerLabel: options.samplesPerLabel ?? 32 }
    const results: Array<MtebResult> = []
    const { embed } = providers
    for (const task of tasks) {
      let result: MtebResult
      switch (task) {
        case "STSBenchmark": {
          const pairs = yield* StsB.load("test", data)
          result = yield* Tasks.sts(task, "test", pairs.map((p) => ({ id: p.id, a: p.sentence1, b: p.sentence2, score: p.score })), embed)
          break
        }
        case "SNLIPairClassification":
          result = yield* Tasks.pairClassification(task, "test", yield* snliPairLabels("test", data), embed)
          break
        case "TRECClassification":
        case "SST2Classification":
        case "AGNewsClassification": {
          const set = task === "TRECClassification" ? "trec" : task === "SST2Classification" ? "sst2" : "ag-news"
          const train = yield* labelledExamples(set, "train", data)
          const test = yield* labelledExamples(set, "test", data)
          result = yield* Tasks.classification(task, "test", train, test, embed, cls)
          break
        }
        case "AGNewsClustering":
          result = yield* Tasks.clustering(task, "test", yield* labelledExamples("ag-news", "all", data), embed, { seed })
          break
        case "CranfieldRetrieval":
        case "CISIRetrieval": {
          const c = collectionTexts(yield* IrCollection.load(task === "CISIRetrieval" ? "cisi" : "cranfield", data))
          result = yield* Tasks.retrieval(task, "test", c.documents, c.queries, c.qrels, embed, providers.search)
          break
        }
        case "CranfieldReranking": {
          const c = collectionTexts(yield* IrCollection.load("cranfield", data))
          const candidates = yield* providers.rerankCandidates(c.documents, c.queries)
          result = yield* Tasks.reranking(task, "test", c.documents, c.queries, c.qrels, candidates, embed, { negatives: options.rerankNegatives ?? 30 })
          break
        }
      }
      results.push(result)
      if (providers.onResult) yield* providers.onResult(result)
    }
    return results
  })

/** One Markdown table: a row per task with its type, main metric (x100) and time. */
export const suiteTable = (title: string, results: ReadonlyArray<MtebResult>): string =>
  toMarkdown(
    {
      title,
      columns: ["task", "type", "split", "metric", "score", "seconds"],
      rows: results.map((r) => {
        const { split, score } = mainScoreOf(r)
        const spec = suiteTasks[r.task_name as SuiteTask]
        return {
          task: r.task_name,
          type: spec?.type ?? "",
          split,
          metric: spec?.metric ?? "main_score",
          score,
          seconds: r.evaluation_time.toFixed(1)
        }
      })
    },
    { digits: 4, percent: ["score"] }
  )

/** Writes each result to `<dir>/<task>.json`; returns the paths. */
export const writeSuite = (dir: string, results: ReadonlyArray<MtebResult>) =>
  Effect.tryPromise({
    try: () => Promise.all(results.map((r) => writeMtebResult(dir, r))),
    catch: (e) => new EvalError({ message: `cannot write results to ${dir}: ${(e as Error).message}`, cause: e })
  })
