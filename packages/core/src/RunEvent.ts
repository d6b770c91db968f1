/** What happens during a run, in order; the CLI renders these and the runner appends them to run.jsonl. */
export type RunEvent =
  | { readonly type: "run-started"; readonly time: string; readonly runId: string; readonly graph: string; readonly nodes: number }
  | { readonly type: "node-cached"; readonly time: string; readonly nodeId: string; readonly stage: string; readonly key: string }
  | { readonly type: "node-started"; readonly time: string; readonly nodeId: string; readonly stage: string; readonly key: string }
  | {
      readonly type: "node-progress"
      readonly time: string
      readonly nodeId: string
      readonly done: number
      readonly total?: number | undefined
      readonly unit?: string | undefined
      /** Units per second since the node started. */
      readonly rate: number
      /** Seconds left at the current rate, when the total is known. */
      readonly etaSeconds?: number | undefined
    }
  | { readonly type: "node-metric"; readonly time: string; readonly nodeId: string; readonly name: string; readonly value: number; readonly step?: number | undefined }
  | { readonly type: "node-log"; readonly time: string; readonly nodeId: string; readonly message: string }
  /** Something a user must see even with --quiet: a corrupt cache entry that was quarantined and recomputed. */
  | { readonly type: "node-warning"; readonly time: string; readonly nodeId: string; readonly message: string }
  | { readonly type: "node-finished"; readonly time: string; readonly nodeId: string; readonly key: string; readonly seconds: number }
  | { readonly type: "node-failed"; readonly time: string; readonly nodeId: string; readonly error: string; readonly skipped: boolean }
  | { readonly type: "run-finished"; readonly time: string; readonly runId: string; readonly ok: boolean; readonly seconds: number; readonly computed: number; readonly cached: number; readonly failed: number }

export type RunEventListener = (event: RunEvent) => void
