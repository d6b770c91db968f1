import * as path from "node:path"
import { Cause, Effect, Logger, Schema } from "effect"
import type { AnyStage } from "./Stage.js"
import { StageContext } from "./StageContext.js"
import { messageOf } from "./internal/causeMessage.js"
import { StageError } from "./StageError.js"

/** Where a shard lies in the input it was cut from. */
export interface ShardInfo {
  /** 0-based shard number. */
  readonly index: number
  /** How many shards the input was cut into. */
  readonly count: number
  /** Index of the shard's first item in the whole input: seed per-item randomness with `offset + i`. */
  readonly offset: number
  /** Items in this shard. */
  readonly items: number
  /** Items in the whole input. */
  readonly total: number
}

/**
 * One unit of stage work — a whole node, or one shard of a sharded node — described so that another
 * thread or process can run it: the stage by name and the module of the plugin that provides it,
 * params as JSON, the seed, and the input values (a shard's slice in place of the sharded port).
 */
export interface StageTask {
  readonly nodeId: string
  readonly stage: string
  /** The plugin module (`import()`-able specifier or file URL) that provides `stage`; undefined when it was made in code. */
  readonly module: string | undefined
  /** The node's params as JSON (encoded by the stage's params schema). */
  readonly params: unknown
  readonly seed: number
  /** The graph file's folder: relative paths in params resolve against it. */
  readonly baseDir: string
  /** An empty folder for the task's folder outputs. */
  readonly scratchDir: string
  /** The cache key the task's outputs are stored under (the node's, or the shard's). */
  readonly key: string
  readonly shard: ShardInfo | undefined
  readonly inputs: Readonly<Record<string, unknown>>
}

/** What a task reports while it runs; the runner turns these into run events of its node. */
export type TaskEvent =
  | { readonly type: "progress"; readonly done: number; readonly total?: number | undefined; readonly unit?: string | undefined }
  | { readonly type: "metric"; readonly name: string; readonly value: number; readonly step?: number | undefined }
  | { readonly type: "log"; readonly message: string }

export type TaskEventSink = (event: TaskEvent) => Effect.Effect<void>


const logText = (message: unknown): string =>
  (Array.isArray(message) ? message : [message]).map((m) => (typeof m === "string" ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(" ")

/** Effect's log calls as task log events, the level in front of all but Info. */
const taskLogger = (emit: TaskEventSink) =>
  Logger.make<unknown, void>(({ message, logLevel }) => {
    const text = logText(message)
    Effect.runFork(emit({ type: "log", message: logLevel === "Info" ? text : `${logLevel.toLowerCase()}: ${text}` }))
  })

/**
 * Runs `stage` for `task` with a StageContext built from the task; any failure becomes a StageError
 * carrying its message. The same function runs tasks in the runner's fiber, in a worker thread and in a
 * cluster runner, which is what makes their outputs equal.
 */
export const executeTask = (
  stage: AnyStage,
  task: StageTask,
  emit: TaskEventSink
): Effect.Effect<Record<string, unknown>, StageError, any> =>
  Effect.gen(function* () {
    const params = yield* Schema.decodeUnknownEffect(Schema.toCodecJson(stage.params as Schema.Codec<unknown>))(task.params)
    const context = StageContext.of({
      nodeId: task.nodeId,
      stageName: task.stage,
      seed: task.seed,
      scratchDir: task.scratchDir,
      shard: task.shard,
      resolvePath: (p) => path.resolve(task.baseDir, p),
      progress: (done, total, unit) => emit({ type: "progress", done, total, unit }),
      metric: (name, value, step) => emit({ type: "metric", name, value, step }),
      log: (message) => emit({ type: "log", message })
    })
    return yield* (stage.run(params, task.inputs) as Effect.Effect<Record<string, unknown>, unknown, any>).pipe(
      Effect.provideService(StageContext, context),
      // What the stage and the services it calls log (`Effect.logWarning`) is the node's log: it goes to
      // run.jsonl and the progress display (stderr), from a worker thread or a runner too, not to stdout.
      Effect.provideService(Logger.CurrentLoggers, new Set([taskLogger(emit)]))
    )
  }).pipe(Effect.catchCause((cause) => Effect.fail(new StageError({ message: messageOf(cause), cause: Cause.squash(cause) }))))
