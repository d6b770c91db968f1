import { Context, Effect } from "effect"
import type { ShardInfo } from "./StageTask.js"

/**
 * What the runner gives every stage while it runs: its node id, a seed derived from the run seed,
 * a scratch folder for outputs it builds on disk, and ways to report progress, metrics and logs.
 */
export class StageContext extends Context.Service<
  StageContext,
  {
    readonly nodeId: string
    readonly stageName: string
    /** Derived from the run seed and the node id: every random choice of the stage starts here. */
    readonly seed: number
    /** An empty folder owned by this node's attempt; folders returned as Directory outputs live here. */
    readonly scratchDir: string
    /** Set when the stage runs on one shard of its sharded input (see `Stage.shard`). */
    readonly shard?: ShardInfo | undefined
    /** Resolves a path given in params relative to the graph file's folder. */
    readonly resolvePath: (p: string) => string
    /** Reports `done` of `total` units; throttled, so calling it every item is fine. */
    readonly progress: (done: number, total?: number, unit?: string) => Effect.Effect<void>
    readonly metric: (name: string, value: number, step?: number) => Effect.Effect<void>
    readonly log: (message: string) => Effect.Effect<void>
  }
>()("@embedflow/core/StageContext") {}

/** Reports progress from inside a stage: `yield* progress(i, n, "sentences")`. */
export const progress = (done: number, total?: number, unit?: string) =>
  Effect.gen(function* () {
    return yield* (yield* StageContext).progress(done, total, unit)
  })

export const metric = (name: string, value: number, step?: number) =>
  Effect.gen(function* () {
    return yield* (yield* StageContext).metric(name, value, step)
  })

export const log = (message: string) =>
  Effect.gen(function* () {
    return yield* (yield* StageContext).log(message)
  })
