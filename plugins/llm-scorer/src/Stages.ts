import { Params, Ports, PositiveInt, Stage, StageContext, StageError, withDefault } from "@embedflow/core"
import { dataSetFolders } from "@embedflow/data"
import { ModelHub, PromptTemplate } from "@embedflow/models"
import { Effect, Schema } from "effect"
import { scoreCandidates } from "./LlmScorer.js"
import * as Task from "./Task.js"

type LabeledExample = Ports.LabeledExample

const fail = (message: string, cause?: unknown) => new StageError({ message, cause })

export const loadTask = Stage.make({
  name: "llm-scorer/load-task",
  version: "1",
  description: "a seeded slice of a classification task (TREC coarse, SST-2, AG News) with label verbalizers",
  params: Schema.Struct({
    task: Task.TaskName,
    split: Schema.String,
    count: PositiveInt,
    dataDir: Schema.optionalKey(Params.folderPath("data folder (relative to the graph file); default: $EMBEDFLOW_DATA or the nearest shared/data"))
  }),
  inputs: { exclude: Ports.LabeledExamples },
  optionalInputs: ["exclude"],
  outputs: { examples: Ports.LabeledExamples, texts: Ports.Texts },
  reads: (params, context) => dataSetFolders(params.dataDir, context, Task.dataFolder[params.task]),
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const all = yield* Task.load(params.task, params.split, params.dataDir === undefined ? undefined : ctx.resolvePath(params.dataDir)).pipe(
        Effect.mapError((e) => fail(`cannot load ${params.task}/${params.split}: ${e.message}`, e))
      )
      const exclude = new Set((inputs.exclude ?? []).map((e) => e.id))
      const examples = Task.sample(all, params.count, ctx.seed, exclude)
      if (examples.length < params.count) {
        yield* ctx.log(`${params.task}/${params.split} has only ${examples.length} examples left after exclusions; asked for ${params.count}`)
      }
      return { examples, texts: examples.map((e) => ({ id: e.id, text: e.text })) }
    })
})

export const score = Stage.make({
  name: "llm-scorer/score",
  version: "2",
  description: "LLM-R feedback: mean per-token (or summed) log p(gold output | candidate demonstration, query) from a causal LM, candidates ranked",
  params: Schema.Struct({
    model: Params.folderPath("causal LM folder (relative to the graph file)"),
    template: withDefault(PromptTemplate.Param, {}),
    candidatesPerQuery: Params.describe(withDefault(PositiveInt, 16), "candidates kept per query (the best-ranked by the retriever, the query itself excluded)"),
    reduction: Params.describe(
      withDefault(Schema.Literals(["mean", "sum"]), "mean"),
      "how the gold output's token log-probabilities become one score: mean per token (LLM-R's official code) or their sum"
    ),
    batchSize: withDefault(PositiveInt, 32)
  }),
  inputs: { queries: Ports.LabeledExamples, pool: Ports.LabeledExamples, candidates: Ports.Candidates },
  outputs: { scored: Ports.ScoredCandidates },
  // A query's scores depend on that query, its candidates and the pool alone (one forward pass per pair;
  // see test/Sharded.test.ts for batch independence): shards of queries, each given all candidates.
  shard: { over: "queries", items: 64 },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const template = yield* Effect.try({ try: () => PromptTemplate.validate(params.template), catch: (e) => fail(String((e as Error).message)) })
      const pool = new Map(inputs.pool.map((e) => [e.id, e]))
      const jobs = yield* Effect.try({
        try: () => groupCandidates(inputs.queries, pool, inputs.candidates, params.candidatesPerQuery),
        catch: (e) => fail((e as Error).message)
      })
      const lm = yield* (yield* ModelHub).causalLM(ctx.resolvePath(params.model))
      const scored = yield* scoreCandidates(lm, jobs, {
        template,
        reduction: params.reduction,
        batchSize: params.batchSize,
        onProgress: (done, total) => ctx.progress(done, total, "pairs")
      })
      return { scored }
    })
})

/**
 * Joins retriever output (one record per query and document) with the examples: per query, its
 * best-ranked candidates from the pool, never the query itself.
 */
export const groupCandidates = (
  queries: ReadonlyArray<LabeledExample>,
  pool: ReadonlyMap<string, LabeledExample>,
  candidates: ReadonlyArray<{ readonly queryId: string; readonly docId: string; readonly rank: number }>,
  perQuery: number
): Array<{ query: LabeledExample; candidates: Array<LabeledExample> }> => {
  const byQuery = new Map<string, Array<{ docId: string; rank: number }>>()
  for (const c of candidates) {
    let list = byQuery.get(c.queryId)
    if (!list) byQuery.set(c.queryId, (list = []))
    list.push(c)
  }
  const missing: Array<string> = []
  const jobs = queries.map((query) => {
    const ranked = (byQuery.get(query.id) ?? []).filter((c) => c.docId !== query.id).sort((a, b) => a.rank - b.rank)
    const chosen: Array<LabeledExample> = []
    for (const c of ranked) {
      if (chosen.length >= perQuery) break
      const demo = pool.get(c.docId)
      if (!demo) missing.push(c.docId)
      else chosen.push(demo)
    }
    return { query, candidates: chosen }
  })
  if (missing.length > 0) {
    throw new Error(
      `${missing.length} candidate id(s) are not in the pool (e.g. '${missing[0]}'); the retriever must search the same examples given as 'pool'`
    )
  }
  const empty = jobs.filter((j) => j.candidates.length === 0)
  if (empty.length > 0) {
    throw new Error(`${empty.length} of ${jobs.length} queries have no candidates (e.g. '${empty[0]!.query.id}'); retrieve candidates for every query`)
  }
  return jobs
}
