import { existsSync } from "node:fs"
import * as path from "node:path"
import { Bm25 } from "@embedflow/bm25"
import type { Ports } from "@embedflow/core"
import { Suite, type Tasks } from "@embedflow/eval"
import { ExactSearch } from "@embedflow/faiss-index"
import { makeModelHub } from "@embedflow/models"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { quietFlag } from "../internal/options.js"
import { Session } from "../Session.js"

/**
 * `embedflow eval`: the MTEB-style suite of @embedflow/eval over the shared data, for one encoder.
 * The CLI sits above the plugins, so it supplies what the eval package may not import: exact
 * search (faiss-index's onnxruntime MatMul + TopK) for retrieval, and BM25 (the bm25 plugin's
 * index) for the reranking task's candidates.
 */
export interface EvalCommandOptions {
  /** A model folder (relative to the working directory) or a hub id. */
  readonly model: string
  readonly tasks?: ReadonlyArray<string> | undefined
  readonly output: string
  readonly onnxFile?: string | undefined
  readonly pooling?: "cls" | "mean" | "last-token" | undefined
  readonly batchSize?: number | undefined
  readonly seed?: number | undefined
  readonly onTask?: ((line: string) => void) | undefined
}

/** BM25 candidates per reranking query (the irrelevant ones among them become the negatives). */
const RERANK_DEPTH = 100

export const runEvalSuite = (options: EvalCommandOptions) =>
  Effect.scoped(
    Effect.gen(function* () {
      const tasks = yield* Effect.try({ try: () => Suite.resolveTasks(options.tasks), catch: (e) => e as Error })
      const model = existsSync(options.model) ? path.resolve(options.model) : options.model
      const hub = yield* makeModelHub()
      const encoder = yield* hub.encoder({
        model,
        pooling: options.pooling ?? "mean",
        normalize: true,
        ...(options.onnxFile !== undefined ? { onnxFile: options.onnxFile } : {})
      })
      const batch = options.batchSize ?? 512
      const embed: Tasks.Embed<unknown> = (texts) =>
        Effect.gen(function* () {
          const data = new Float32Array(texts.length * encoder.dim)
          for (let start = 0; start < texts.length; start += batch) {
            data.set(yield* encoder.embed(texts.slice(start, start + batch)), start * encoder.dim)
          }
          return { dim: encoder.dim, count: texts.length, data }
        })
      const search: Tasks.Search<unknown, never> = (corpus, queries, k) =>
        Effect.scoped(
          Effect.gen(function* () {
            const exact = yield* ExactSearch.scoped(corpus.data, corpus.dim, { metric: "ip" })
            const r = yield* Effect.tryPromise(() => exact.search(queries.data, Math.min(k, corpus.count)))
            const out: Array<Ports.Candidate> = []
            for (let q = 0; q < queries.count; q++) {
              let rank = 0
              for (let j = q * r.k; j < (q + 1) * r.k; j++) {
                if (r.labels[j]! < 0) continue
                out.push({ queryId: queries.ids[q]!, docId: corpus.ids[r.labels[j]!]!, score: r.distances[j]!, rank: ++rank })
              }
            }
            return out
          })
        )
      const rerankCandidates = (documents: ReadonlyArray<{ id: string; text: string }>, queries: ReadonlyArray<{ id: string; text: string }>) =>
        Effect.sync(() => {
          const index = Bm25.build(documents)
          return queries.flatMap((q) => index.search(q.text, RERANK_DEPTH).map((h, r) => ({ queryId: q.id, docId: h.id, score: h.score, rank: r + 1 })))
        })
      const results = yield* Suite.runSuite(
        {
          embed,
          search,
          rerankCandidates,
          onResult: (r) =>
            Effect.sync(() => options.onTask?.(`${r.task_name}: ${(Object.values(r.scores)[0]![0]!.main_score * 100).toFixed(2)} (${r.evaluation_time.toFixed(1)} s)`))
        },
        { tasks, seed: options.seed ?? 42 }
      )
      const files = yield* Suite.writeSuite(path.resolve(options.output), results)
      const label = path.basename(model) + (options.onnxFile ? ` (${options.onnxFile})` : "")
      return { results, files, table: Suite.suiteTable(`embedflow eval: ${label}`, results) }
    })
  )

/** `--tasks a,b`: names checked against the suite's tasks when parsed. */
const tasksFlag = Flag.String("tasks").pipe(
  Flag.withMetavar("a,b"),
  Flag.withDescription(`comma-separated tasks (default: all of ${Suite.resolveTasks(undefined).length})`),
  Flag.mapTryCatch(
    (list) => {
      const tasks = list.split(",").map((t) => t.trim()).filter((t) => t !== "")
      Suite.resolveTasks(tasks)
      return tasks
    },
    (e) => (e instanceof Error ? e.message : String(e))
  ),
  Flag.optional
)

/** `embedflow eval --model <folder|hub id>`. */
export const evalCommand = Command.make(
  "eval",
  {
    model: Flag.String("model").pipe(Flag.withMetavar("folder|hub id"), Flag.withDescription("the encoder: a model folder or a hub id")),
    tasks: tasksFlag,
    output: Flag.String("output").pipe(Flag.withMetavar("dir"), Flag.withDescription("where the MTEB JSON results go, one file per task"), Flag.withDefault("mteb-results")),
    onnxFile: Flag.String("onnx-file").pipe(Flag.withMetavar("file"), Flag.withDescription("which ONNX file of the folder to run (default onnx/model.onnx), e.g. onnx/model_sif.onnx"), Flag.optional),
    quiet: quietFlag
  },
  (input) =>
    Effect.gen(function* () {
      const { io } = yield* Session
      const started = performance.now()
      const result = yield* runEvalSuite({
        model: input.model,
        tasks: Option.getOrUndefined(input.tasks),
        output: input.output,
        onnxFile: Option.getOrUndefined(input.onnxFile),
        onTask: input.quiet ? undefined : (line) => io.err(line)
      })
      io.out(`${result.table}\nresults (MTEB JSON, one file per task): ${path.resolve(input.output)}`)
      io.out(`total: ${((performance.now() - started) / 1000).toFixed(1)} s`)
    })
).pipe(
  Command.withDescription(
    "Runs the MTEB-style suite (STS, pair classification, classification, clustering, retrieval, reranking) on the shared data for one encoder; prints one table and writes MTEB JSON results."
  ),
  Command.withShortDescription("MTEB-style suite for one encoder"),
  Command.withExamples([{ command: "embedflow eval --model models/glove-6b-100d --tasks STSBenchmark,CranfieldReranking" }])
)
