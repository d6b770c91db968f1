/**
 * A StageExecutor on worker threads: whole nodes and the shards of sharded stages run on `size`
 * threads, so independent nodes and the shards of one node use every core.
 *
 * Built on effect's low-level workers (`effect/workers` Worker + @effect/platform-node's NodeWorker),
 * not on `RpcClient.layerProtocolWorker`: that protocol reports a crashed worker to every request in
 * flight on every worker, where a crash here must fail only the task that ran on it. Each worker runs
 * one task at a time; a supervising fiber per worker replaces a worker that exits (a stage calling
 * process.exit, an addon abort) and fails the task it was running.
 */
import { availableParallelism } from "node:os"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { Worker as NodeThread } from "node:worker_threads"
import { StageError, StageExecutor, type StageTask, type TaskEventSink } from "@embedflow/core"
import * as NodeWorker from "@effect/platform-node/NodeWorker"
import { Deferred, Effect, Layer, Queue, type Scope } from "effect"
import * as Worker from "effect/workers/Worker"
import { describeTask, type FromWorker, type RunTask } from "./internal/protocol.js"

export interface WorkerPoolOptions {
  /** Worker threads (default: the available cores, `os.availableParallelism()`). */
  readonly size?: number | undefined
  /**
   * EMBEDFLOW_THREADS inside each worker (OpenBLAS and onnxruntime threads per worker). Default: the
   * caller's EMBEDFLOW_THREADS when set, else cores / size (at least 1), so threads × workers ≈ cores.
   */
  readonly threadsPerWorker?: number | undefined
}

/** The pool's default size: the cores this process may use. */
export const defaultSize = (): number => availableParallelism()

/** Threads each worker's native libraries get unless told: the cores shared out between the workers. */
export const defaultThreadsPerWorker = (size: number): number => {
  const fromEnv = process.env.EMBEDFLOW_THREADS
  if (fromEnv !== undefined && fromEnv !== "") return Number(fromEnv)
  return Math.max(1, Math.floor(availableParallelism() / size))
}

/**
 * The worker script and the flags it needs: the built `worker.js`, or from the TypeScript sources (tests,
 * `--conditions=source --import tsx` runs) the `.ts` entry loaded through tsx with the same conditions.
 */
const workerEntry = (): { readonly url: URL; readonly execArgv: ReadonlyArray<string> } => {
  const js = new URL("./internal/worker.js", import.meta.url)
  if (existsSync(fileURLToPath(js))) return { url: js, execArgv: process.execArgv }
  const ts = new URL("./internal/worker.ts", import.meta.url)
  const execArgv = [...process.execArgv]
  const hasTsx = execArgv.some((a, i) => a === "tsx" && ["--import", "--loader"].includes(execArgv[i - 1] ?? "")) || execArgv.includes("--import=tsx")
  if (!hasTsx) execArgv.push("--import", "tsx")
  if (!execArgv.some((a) => a.startsWith("--conditions=source") || a === "-C")) execArgv.push("--conditions=source")
  return { url: ts, execArgv }
}

interface InFlight {
  readonly seq: number
  readonly task: StageTask
  readonly emit: TaskEventSink
  readonly result: Deferred.Deferred<Record<string, unknown>, StageError>
}

/** One worker thread and the task it runs; `worker` is swapped for a fresh one when the thread dies. */
interface Slot {
  readonly index: number
  worker: Worker.Worker<FromWorker, RunTask>
  ready: Deferred.Deferred<void>
  current: InFlight | undefined
  seq: number
}

const makeSlot = (index: number, platform: Worker.WorkerPlatform["Service"]): Effect.Effect<Slot, StageError, Worker.Spawner | Scope.Scope> =>
  Effect.gen(function* () {
    let spawned = 0
    const spawn = Effect.gen(function* () {
      const worker = yield* platform.spawn<FromWorker, RunTask>(index * 1_000_000 + spawned++)
      return { worker, ready: yield* Deferred.make<void>() }
    }).pipe(Effect.mapError((e) => new StageError({ message: `cannot start worker thread ${index}: ${e.message}`, cause: e })))
    const first = yield* spawn
    const slot: Slot = { index, worker: first.worker, ready: first.ready, current: undefined, seq: 0 }
    const onMessage = (message: FromWorker) =>
      Effect.suspend(() => {
        const current = slot.current
        if (current === undefined || current.seq !== message.seq) return Effect.void
        switch (message._tag) {
          case "Event":
            return current.emit(message.event)
          case "Done":
            slot.current = undefined
            return Deferred.succeed(current.result, message.outputs)
          case "Failed":
            slot.current = undefined
            return Deferred.fail(current.result, new StageError({ message: message.message }))
        }
      })
    // Supervisor: runs the worker until it exits, then puts a fresh one in its place before failing
    // the task it ran, so the next task never goes to a dead worker.
    yield* Effect.gen(function* () {
      while (true) {
        const { worker, ready } = slot
        const exit = yield* Effect.exit(worker.run(onMessage, { onSpawn: Deferred.succeed(ready, undefined).pipe(Effect.asVoid) }))
        const reason = exit._tag === "Failure" ? String((exit.cause.reasons[0] as { error?: { message?: string } } | undefined)?.error?.message ?? exit.cause) : "it stopped"
        const next = yield* spawn
        slot.worker = next.worker
        slot.ready = next.ready
        const lost = slot.current
        slot.current = undefined
        if (lost) {
          yield* Deferred.fail(
            lost.result,
            new StageError({ message: `the worker thread running ${describeTask(lost.task)} died (${reason}); the pool replaced it` })
          )
        }
      }
    }).pipe(Effect.forkScoped)
    return slot
  })

/** Runs one task on a slot's worker and waits for its reply (or its worker's death). */
const runOn = (slot: Slot, task: StageTask, emit: TaskEventSink): Effect.Effect<Record<string, unknown>, StageError> =>
  Effect.gen(function* () {
    // Sent only to a worker that is up, so a value that cannot be cloned fails here, in postMessage.
    yield* Deferred.await(slot.ready)
    const result = yield* Deferred.make<Record<string, unknown>, StageError>()
    const seq = ++slot.seq
    slot.current = { seq, task, emit, result }
    yield* slot.worker.send({ _tag: "Run", seq, task }).pipe(
      Effect.catch((e) => {
        slot.current = undefined
        const why = e.reason.cause instanceof Error ? e.reason.cause.message : e.message
        return Effect.fail(new StageError({ message: `the inputs of ${describeTask(task)} cannot be sent to a worker thread: ${why}`, cause: e }))
      })
    )
    return yield* Deferred.await(result)
  })

/** A pool of worker threads as a StageExecutor, released (threads stopped) when the scope closes. */
export const make = (options: WorkerPoolOptions = {}): Effect.Effect<StageExecutor["Service"], StageError, Scope.Scope> =>
  Effect.gen(function* () {
    const size = options.size ?? defaultSize()
    if (!Number.isInteger(size) || size < 1) return yield* new StageError({ message: `worker pool size must be a positive integer, got ${size}` })
    const threads = options.threadsPerWorker ?? defaultThreadsPerWorker(size)
    if (!Number.isInteger(threads) || threads < 1) {
      return yield* new StageError({ message: `threads per worker (EMBEDFLOW_THREADS) must be a positive integer, got ${threads}` })
    }
    const entry = workerEntry()
    const env = { ...process.env, EMBEDFLOW_THREADS: String(threads) }
    const spawner = (id: number) =>
      new NodeThread(entry.url, { env, execArgv: [...entry.execArgv], name: `embedflow-worker-${Math.floor(id / 1_000_000)}` })
    const slots = yield* Effect.forEach(Array.from({ length: size }, (_, i) => i), (i) =>
      Effect.gen(function* () {
        return yield* makeSlot(i, yield* Worker.WorkerPlatform)
      })
    ).pipe(Effect.provide(NodeWorker.layer(spawner)))
    const idle = yield* Queue.unbounded<Slot>()
    yield* Queue.offerAll(idle, slots)
    return StageExecutor.of({
      name: `worker threads ×${size}`,
      capacity: size,
      runs: "all",
      execute: (task, emit) =>
        Effect.acquireUseRelease(
          Queue.take(idle),
          (slot) => runOn(slot, task, emit),
          (slot) => Queue.offer(idle, slot)
        )
    })
  })

/** The pool as a layer providing the StageExecutor the runner sends its tasks to. */
export const layer = (options: WorkerPoolOptions = {}): Layer.Layer<StageExecutor, StageError> => Layer.effect(StageExecutor, make(options))
