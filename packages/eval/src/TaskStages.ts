import * as path from "node:path"
import { metric, Params, Ports, PortType, PositiveInt, Stage, StageContext, StageError, type Vectors, withDefault } from "@embedflow/core"
import { Effect, Schema } from "effect"
import { type MtebResult, writeMtebResult } from "./MtebResult.js"
import type { Matrix } from "./Sts.js"
import * as Tasks from "./Tasks.js"

/**
 * The MTEB task types as graph stages over embeddings computed upstream (models/embed): each
 * report carries the task's MTEB result (`mteb`) and its numeric metrics (`metrics`, with
 * `main_score`) for eval/table; eval/mteb-results writes the files.
 */

const fail = (message: string) => new StageError({ message })

/** An `embed` function answering from precomputed embeddings of `texts` (joined by id, or by order without ids). */
export const embedFrom = (nodeId: string, texts: ReadonlyArray<Ports.TextRecord>, embeddings: Vectors): Tasks.Embed<StageError> => {
  const rowOfId = new Map((embeddings.ids ?? texts.map((t) => t.id)).map((id, i) => [id, i]))
  const rowOfText = new Map<string, number>()
  for (const t of texts) {
    const row = rowOfId.get(t.id)
    if (row !== undefined && !rowOfText.has(t.text)) rowOfText.set(t.text, row)
  }
  return (wanted) =>
    Effect.gen(function* () {
      const { dim } = embeddings
      const data = new Float32Array(wanted.length * dim)
      for (const [i, text] of wanted.entries()) {
        const row = rowOfText.get(text)
        if (row === undefined) return yield* fail(`${nodeId}: no embedding for the text ${JSON.stringify(text.slice(0, 60))} (embed the same texts this stage reads)`)
        data.set(embeddings.data.subarray(row * dim, (row + 1) * dim), i * dim)
      }
      return { dim, count: wanted.length, data } satisfies Matrix
    })
}

const labelParams = {
  task: Params.describe(Schema.String, "MTEB task name (result file name)"),
  split: withDefault(Schema.String, "test"),
  method: Schema.optionalKey(Params.describe(Schema.String, "row label in summary tables")),
  dataset: Schema.optionalKey(Params.describe(Schema.String, "column group in summary tables (default: task)"))
}

const report = (params: { readonly task: string; readonly method?: string; readonly dataset?: string }, result: MtebResult) =>
  Effect.gen(function* () {
    const scores = Object.values(result.scores)[0]![0]!
    const metrics: Record<string, number> = {}
    for (const [k, v] of Object.entries(scores)) if (typeof v === "number") metrics[k] = v
    yield* metric("main_score", scores.main_score)
    return {
      report: {
        task: "mteb",
        title: params.task,
        ...(params.method !== undefined ? { method: params.method } : {}),
        dataset: params.dataset ?? params.task,
        metrics,
        mteb: result
      }
    }
  })

const nodeId = Effect.gen(function* () {
  return (yield* StageContext).nodeId
})

export const pairClassification = Stage.make({
  name: "eval/pair-classification",
  version: "1",
  description: "MTEB pair classification: pairs scored 1/0; accuracy at the best threshold, F1, AP under cosine, dot, Euclidean, Manhattan (main: max_ap)",
  params: Schema.Struct(labelParams),
  inputs: { pairs: Ports.ScoredPairs, sentences: Ports.Texts, embeddings: Ports.Embeddings },
  outputs: { report: Ports.Report },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const id = yield* nodeId
      const result = yield* Tasks.pairClassification(params.task, params.split, inputs.pairs, embedFrom(id, inputs.sentences, inputs.embeddings))
      return yield* report(params, result)
    })
})

export const classification = Stage.make({
  name: "eval/classification",
  version: "1",
  description: "MTEB classification: logistic regression on frozen embeddings of undersampled training sets, n experiments; accuracy (main), macro-F1",
  params: Schema.Struct({
    ...labelParams,
    nExperiments: withDefault(PositiveInt, 10),
    samplesPerLabel: withDefault(PositiveInt, 32)
  }),
  inputs: { train: Ports.LabeledExamples, test: Ports.LabeledExamples, trainEmbeddings: Ports.Embeddings, testEmbeddings: Ports.Embeddings },
  outputs: { report: Ports.Report },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const embed = {
        train: embedFrom(`${ctx.nodeId} (train)`, inputs.train, inputs.trainEmbeddings),
        test: embedFrom(`${ctx.nodeId} (test)`, inputs.test, inputs.testEmbeddings)
      }
      const result = yield* Tasks.classification(params.task, params.split, inputs.train, inputs.test, embed, {
        seed: ctx.seed,
        nExperiments: params.nExperiments,
        samplesPerLabel: params.samplesPerLabel
      })
      return yield* report(params, result)
    })
})

export const clustering = Stage.make({
  name: "eval/clustering",
  version: "1",
  description: "MTEB clustering: mini-batch k-means (k = labels, batch 500) on the embeddings, V-measure against the labels",
  params: Schema.Struct(labelParams),
  inputs: { examples: Ports.LabeledExamples, embeddings: Ports.Embeddings },
  outputs: { report: Ports.Report },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const result = yield* Tasks.clustering(params.task, params.split, inputs.examples, embedFrom(ctx.nodeId, inputs.examples, inputs.embeddings), { seed: ctx.seed })
      return yield* report(params, result)
    })
})

export const reranking = Stage.make({
  name: "eval/reranking",
  version: "1",
  description: "MTEB reranking: each judged query's relevant documents plus the irrelevant ones among the candidates (e.g. BM25 top k), ranked by cosine; MAP (main), MRR@10",
  params: Schema.Struct({ ...labelParams, negatives: withDefault(PositiveInt, 30) }),
  inputs: {
    documents: Ports.Texts,
    queries: Ports.Texts,
    qrels: Ports.Qrels,
    candidates: Ports.Candidates,
    documentEmbeddings: Ports.Embeddings,
    queryEmbeddings: Ports.Embeddings
  },
  outputs: { report: Ports.Report },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const id = yield* nodeId
      const embed = {
        documents: embedFrom(`${id} (documents)`, inputs.documents, inputs.documentEmbeddings),
        queries: embedFrom(`${id} (queries)`, inputs.queries, inputs.queryEmbeddings)
      }
      const result = yield* Tasks.reranking(params.task, params.split, inputs.documents, inputs.queries, inputs.qrels, inputs.candidates, embed, {
        negatives: params.negatives
      }).pipe(Effect.mapError((e) => (e instanceof StageError ? e : fail(`${id}: ${e.message}`))))
      return yield* report(params, result)
    })
})

export const mtebResults = Stage.make({
  name: "eval/mteb-results",
  version: "1",
  description: "writes the MTEB result JSON of each eval/* report that carries one (one file per task) into a folder",
  params: Schema.Struct({}),
  inputs: { reports: PortType.list(Ports.Report) },
  outputs: { files: Ports.Folder },
  run: (_params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const dir = path.join(ctx.scratchDir, "mteb")
      for (const r of inputs.reports as ReadonlyArray<{ mteb?: MtebResult; method?: string }>) {
        if (!r.mteb) continue
        const sub = r.method ? path.join(dir, r.method.replace(/[^\w.-]+/g, "_")) : dir
        yield* Effect.tryPromise({ try: () => writeMtebResult(sub, r.mteb!), catch: (e) => fail(`${ctx.nodeId}: ${(e as Error).message}`) })
      }
      return { files: { path: dir } }
    })
})

export const taskStages = [pairClassification, classification, clustering, reranking, mtebResults] as const
