/**
 * The worker thread's entry: effect's NodeWorkerRunner receives tasks from the pool, a TaskHost (from
 * @embedflow/core) imports each task's plugin once and runs the stage; events, outputs and failures go
 * back as messages. Outputs are structured-cloned: a value that cannot be cloned fails the task with
 * a message instead of leaving the pool waiting.
 */
import { makeTaskHost, type TaskEvent } from "@embedflow/core"
import * as NodeWorkerRunner from "@effect/platform-node/NodeWorkerRunner"
import { Effect } from "effect"
import * as WorkerRunner from "effect/workers/WorkerRunner"
import { describeTask, type FromWorker, type RunTask } from "./protocol.js"

const program = Effect.gen(function* () {
  const platform = yield* WorkerRunner.WorkerRunnerPlatform
  const runner = yield* platform.start<FromWorker, RunTask>()
  const host = makeTaskHost()
  const reply = (message: FromWorker) =>
    Effect.try({
      try: () => runner.sendUnsafe(0, message),
      catch: (e) => (e instanceof Error ? e.message : String(e))
    })
  yield* runner
    .run((_port, { seq, task }) => {
      const emit = (event: TaskEvent) => reply({ _tag: "Event", seq, event }).pipe(Effect.ignore)
      return host.run(task, emit).pipe(
        Effect.matchEffect({
          onFailure: (error) => reply({ _tag: "Failed", seq, message: error.message }),
          onSuccess: (outputs) =>
            reply({ _tag: "Done", seq, outputs }).pipe(
              Effect.catch((why) =>
                reply({ _tag: "Failed", seq, message: `the outputs of ${describeTask(task)} cannot be sent back from the worker thread: ${why}` })
              )
            )
        }),
        Effect.ignore
      )
    })
    .pipe(Effect.ensuring(Effect.promise(() => host.dispose())))
})

Effect.runFork(program.pipe(Effect.provide(NodeWorkerRunner.layer)))
