import type { StageTask, TaskEvent } from "@embedflow/core"

/** Pool → worker: one task at a time per worker. */
export interface RunTask {
  readonly _tag: "Run"
  /** Sequence number of the task on this worker: replies carry it so a late reply is never misrouted. */
  readonly seq: number
  readonly task: StageTask
}

/** Worker → pool. */
export type FromWorker =
  | { readonly _tag: "Event"; readonly seq: number; readonly event: TaskEvent }
  | { readonly _tag: "Done"; readonly seq: number; readonly outputs: Record<string, unknown> }
  | { readonly _tag: "Failed"; readonly seq: number; readonly message: string }

/** `node 'x' (shard 2/5)`, for messages. */
export const describeTask = (task: StageTask): string =>
  `node '${task.nodeId}'${task.shard ? ` (shard ${task.shard.index + 1}/${task.shard.count})` : ""}`
