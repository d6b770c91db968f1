import * as path from "node:path"
import { availableParallelism } from "node:os"
import { Config, Effect, Layer, Option } from "effect"
import { CliError, Command, Flag } from "effect/cli"
import { ClusterExecutor } from "@embedflow/cluster"
import { type ArtifactStore, layerFileSystem, Plan, type RunEventListener, Runner, type StageExecutor } from "@embedflow/core"
import { WorkerPool } from "@embedflow/threads"
import { graphFile, graphParams, intFlag, storeFlag, switchFlag } from "../internal/options.js"
import { ProgressRenderer } from "../ProgressRenderer.js"
import { Session } from "../Session.js"
import { loadGraph } from "./validate.js"
import { clusterFlag } from "./worker.js"

export interface RunCommandOptions {
  readonly store: string
  readonly force: boolean
  readonly concurrency?: number | undefined
  readonly listeners: ReadonlyArray<RunEventListener>
  /** Worker threads for whole nodes and shards (0: everything in this thread). */
  readonly workers?: number | undefined
  /** PostgreSQL URL: shards go to the runners of this cluster (`embedflow worker`). */
  readonly cluster?: string | undefined
  /** Items per shard of sharded stages (default: each stage's own). */
  readonly shardItems?: number | undefined
}

/** Markdown tables of the run's Report outputs (a report carries one in its `markdown` field). */
export const reportsOf = (result: Runner.RunResult): Array<{ nodeId: string; markdown: string }> =>
  Object.entries(result.nodes).flatMap(([nodeId, node]) =>
    Object.values(node.outputs).flatMap((v) => {
      const markdown = (v as { markdown?: unknown } | null)?.markdown
      return typeof markdown === "string" ? [{ nodeId, markdown }] : []
    })
  )

export class UnknownNodeError extends Error {}

/** load → validate → plan → execute → store. */
export const run = (file: string, options: RunCommandOptions) =>
  Effect.gen(function* () {
    const graph = yield* loadGraph(file)
    const store = layerFileSystem(path.resolve(options.store))
    const executor: Layer.Layer<StageExecutor, unknown, ArtifactStore> | Layer.Layer<never> =
      options.cluster !== undefined
        ? ClusterExecutor.layer({ url: options.cluster })
        : options.workers !== undefined && options.workers > 0
          ? WorkerPool.layer({ size: options.workers })
          : Layer.empty
    return yield* Runner.run(graph, {
      force: options.force,
      concurrency: options.concurrency,
      listeners: options.listeners,
      shardItems: options.shardItems
    }).pipe(Effect.provide(Layer.provideMerge(executor as Layer.Layer<StageExecutor, unknown, ArtifactStore>, store)))
  })

/** `--workers N|auto`: a thread count, `auto` for one per core, 0 for none. */
const workersFlag = Flag.String("workers").pipe(
  Flag.withMetavar("n|auto"),
  Flag.withDescription("worker threads for nodes and shards: a number, 'auto' (one per core) or 0 (all in this thread); default $EMBEDFLOW_WORKERS or 0"),
  Flag.withFallbackConfig(Config.String("EMBEDFLOW_WORKERS")),
  Flag.withDefault("0"),
  Flag.mapTryCatch(
    (v) => {
      if (v === "auto") return availableParallelism()
      if (!/^\d+$/.test(v)) throw new Error("expected a non-negative integer or 'auto'")
      return Number(v)
    },
    (e) => (e instanceof Error ? e.message : String(e))
  )
)

/** `run --dry-run` (the plan: keys, what is cached, what runs) or `run --explain <node>` (what went into its key). */
export const plan = (file: string, options: { readonly store: string; readonly force: boolean; readonly explain?: string | undefined }) =>
  Effect.gen(function* () {
    const graph = yield* loadGraph(file)
    const planned = yield* Plan.make(graph).pipe(Effect.provide(layerFileSystem(path.resolve(options.store))))
    if (options.explain === undefined) return Plan.format(planned, { force: options.force })
    const text = Plan.explain(planned, options.explain)
    if (text === undefined) {
      return yield* Effect.fail(new UnknownNodeError(`--explain: no node '${options.explain}' in ${file}; nodes: ${graph.nodes.map((n) => n.id).join(", ")}`))
    }
    return text
  })

/** `embedflow run <graph> | --default`: runs a graph (or prints its plan) with the cache in --store. */
export const runCommand = Command.make(
  "run",
  {
    ...graphParams,
    store: storeFlag,
    force: switchFlag("force", "recompute every node and replace its cache entry"),
    concurrency: intFlag("concurrency", 1, "most nodes running at once").pipe(Flag.optional),
    workers: workersFlag,
    cluster: clusterFlag.pipe(Flag.withDescription("send the shards of sharded stages to the runners (`embedflow worker`) of this PostgreSQL cluster"), Flag.optional),
    shardItems: intFlag("shard-items", 1, "items per shard of sharded stages (default: each stage's own)").pipe(Flag.optional),
    quiet: switchFlag("quiet", "no progress on stderr (warnings and failures are still printed)"),
    dryRun: switchFlag("dry-run", "print the plan (each node's key, cached or to run) and run nothing"),
    explain: Flag.String("explain").pipe(Flag.withMetavar("node"), Flag.withDescription("print what went into a node's cache key (params, inputs, file hashes)"), Flag.optional)
  },
  (input) =>
    Effect.gen(function* () {
      const { io } = yield* Session
      const file = yield* graphFile("run", input)
      const explain = Option.getOrUndefined(input.explain)
      if (input.dryRun || explain !== undefined) {
        io.out(yield* plan(file, { store: input.store, force: input.force, explain }))
        return
      }
      const renderer = new ProgressRenderer(io.stderr)
      const result = yield* run(file, {
        store: input.store,
        force: input.force,
        concurrency: Option.getOrUndefined(input.concurrency),
        workers: input.workers,
        cluster: Option.getOrUndefined(input.cluster),
        shardItems: Option.getOrUndefined(input.shardItems),
        listeners: [input.quiet ? renderer.quietListener : renderer.listener]
      })
      for (const r of reportsOf(result)) io.out(`\n## ${r.nodeId}\n\n${r.markdown}`)
      io.out(`\nrun log and outputs: ${result.runDir}`)
    })
).pipe(
  Command.withDescription(
    "Runs a graph: load, validate, plan, execute, store. Artifacts are cached in --store, keyed by stage, params, inputs and the content of the files and folders a node reads: re-running a graph, or resuming a killed run, recomputes only what changed or did not finish. Entries are verified when read; --force replaces them."
  ),
  Command.withShortDescription("run a graph (or --default, the built-in demo graph)"),
  Command.validate((input) =>
    Option.isSome(input.cluster) && input.workers > 0
      ? Effect.fail(new CliError.ValidationError({ message: "'run' takes --workers or --cluster, not both" }))
      : Effect.asVoid(graphFile("run", input))
  ),
  Command.withExamples([
    { command: "embedflow run --default", description: "the built-in demo graph" },
    { command: "embedflow run --default --workers auto", description: "on a worker thread per core" },
    { command: "embedflow run my-graph.yaml --cluster postgres://db/embedflow", description: "shards on the runners of a cluster" },
    { command: "embedflow run my-graph.yaml --dry-run", description: "the plan: each node's key, cached or to run" },
    { command: "embedflow run my-graph.yaml --explain train", description: "what went into node train's key" }
  ])
)
