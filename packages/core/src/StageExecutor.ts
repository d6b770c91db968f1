import { Context, type Effect } from "effect"
import type { StageError } from "./StageError.js"
import type { StageTask, TaskEventSink } from "./StageTask.js"

/**
 * Where the runner sends stage work when it is provided: a worker-thread pool, a cluster of runner
 * processes. Without one, tasks run in the runner's own fiber. An executor resolves the stage from
 * `task.module` on its side, runs it with `executeTask`, and returns the outputs; it may store them
 * under `task.key` itself (a remote runner writing to a shared store), and the runner then does not
 * store them again.
 */
export class StageExecutor extends Context.Service<
  StageExecutor,
  {
    /** Shown in logs: `worker threads ×2`, `cluster postgres://…`. */
    readonly name: string
    /** How many tasks the runner keeps in flight at once (shards of one node, nodes of one graph). */
    readonly capacity: number
    /**
     * `all`: whole nodes go to the executor too (a thread pool runs independent nodes on other cores);
     * `shards`: only the shards of sharded stages (a cluster; whole nodes run in the runner's process).
     */
    readonly runs: "all" | "shards"
    readonly execute: (task: StageTask, emit: TaskEventSink) => Effect.Effect<Record<string, unknown>, StageError>
  }
>()("@embedflow/core/StageExecutor") {}
