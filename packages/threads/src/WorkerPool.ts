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
import { Cause, Deferred, Effect, Layer, Queue, type Scope } from "effect"
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
  /** More Node options for the threads (only those Node accepts for a worker; others stop it from starting). */
  readonly execArgv?: ReadonlyArray<string> | undefined
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
  /** Done when the thread is up; failed when it died before that (it could not start: no respawning). */
  ready: Deferred.Deferred<void, StageError>
  /** Stops the current thread at once (its exit makes the supervisor replace it). */
  terminate: () => void
  current: InFlight | undefined
  /** The task was interrupted while its thread ran it: the supervisor stops the thread and gives the slot back once replaced. */
  abandoned: boolean
  seq: number
}

const makeSlot = (
  index: number,
  platform: Worker.WorkerPlatform["Service"],
  idle: Queue.Queue<Slot>,
  threads: ReadonlyMap<number, NodeThread>
): Effect.Effect<Slot, StageError, Worker.Spawner | Scope.Scope> =>
  Effect.gen(function* () {
    let spawned = 0
    const spawn = Effect.gen(function* () {
      const id = index * 1_000_000 + spawned++
      const worker = yield* platform.spawn<FromWorker, RunTask>(id)
      return { worker, ready: yield* Deferred.make<void, StageError>(), terminate: () => void threads.get(id)?.terminate() }
    }).pipe(Effect.mapError((e) => new StageError({ message: `cannot start worker thread ${index}: ${e.message}`, cause: e })))
    const first = yield* spawn
    const slot: Slot = { index, worker: first.worker, ready: first.ready, terminate: first.terminate, current: undefined, abandoned: false, seq: 0 }
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
    // the task it ran (or giving back the slot of an abandoned task), so no task goes to a dead worker.
    yield* Effect.gen(function* () {
      while (true) {
        const { worker, ready } = slot
        const exit = yield* Effect.exit(worker.run(onMessage, { onSpawn: Deferred.succeed(ready, undefined).pipe(Effect.asVoid) }))
        const reason = exit._tag === "Failure" ? String((exit.cause.reasons[0] as { error?: { message?: string } } | undefined)?.error?.message ?? exit.cause) : "it stopped"
        if (!(yield* Deferred.isDone(ready))) {
          // Died before it was up (a bad execArgv, an entry that does not load): a fresh one would die
          // the same way, so the slot stays down and its tasks fail with the reason instead of waiting.
          yield* Deferred.fail(ready, new StageError({ message: `worker thread ${slot.index} could not start: ${reason}` }))
          if (slot.abandoned) yield* Queue.offer(idle, slot)
          return
        }
        const next = yield* spawn
        slot.worker = next.worker
        slot.ready = next.ready
        slot.terminate = next.terminate
        const lost = slot.current
        slot.current = undefined
        if (lost) {
          yield* Deferred.fail(
            lost.result,
            new StageError({ message: `the worker thread running ${describeTask(lost.task)} died (${reason}); the pool replaced it` })
          )
        }
        if (slot.abandoned) {
          slot.abandoned = false
          yield* Queue.offer(idle, slot)
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

/**
 * Takes an idle slot, runs the task on it and gives the slot back. A task interrupted while its thread
 * runs it (the run was cancelled) stops that thread: the supervisor replaces it, then gives the slot back.
 */
const execute = (idle: Queue.Queue<Slot>, task: StageTask, emit: TaskEventSink): Effect.Effect<Record<string, unknown>, StageError> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function* () {
      const slot = yield* restore(Queue.take(idle))
      const exit = yield* Effect.exit(restore(runOn(slot, task, emit)))
      if (exit._tag === "Failure" && Cause.hasInterruptsOnly(exit.cause) && slot.current !== undefined) {
        slot.abandoned = true
        slot.terminate()
      } else yield* Queue.offer(idle, slot)
      return yield* exit
    })
  )

/** A pool of worker threads as a StageExecutor, released (threads stopped) when the scope closes. */
export const make = (options: WorkerPoolOptions = {}): Effect.Effect<StageExecutor["Service"], StageError, Scope.Scope> =>
  Effect.gen(function* () {
    const size = options.size ?? defaultSize()
    if (!Number.isInteger(size) || size < 1) return yield* new StageError({ message: `worker pool size must be a positive integer, got ${size}` })
    const nativeThreads = options.threadsPerWorker ?? defaultThreadsPerWorker(size)
    if (!Number.isInteger(nativeThreads) || nativeThreads < 1) {
      return yield* new StageError({ message: `threads per worker (EMBEDFLOW_THREADS) must be a positive integer, got ${nativeThreads}` })
    }
    const entry = workerEntry()
    const env = { ...process.env, EMBEDFLOW_THREADS: String(nativeThreads) }
    // The threads by spawn id, so an abandoned task's thread can be stopped at once (effect's Worker
    // stops a thread only through its scope: a close message, then termination after 5 s).
    const threads = new Map<number, NodeThread>()
    const spawner = (id: number) => {
      const thread = new NodeThread(entry.url, { env, execArgv: [...entry.execArgv, ...(options.execArgv ?? [])], name: `embedflow-worker-${Math.floor(id / 1_000_000)}` })
      threads.set(id, thread)
      thread.once("exit", () => threads.delete(id))
      return thread
    }
    const idle = yield* Queue.unbounded<Slot>()
    const slots = yield* Effect.forEach(Array.from({ length: size }, (_, i) => i), (i) =>
      Effect.gen(function* () {
        return yield* makeSlot(i, yield* Worker.WorkerPlatform, idle, threads)
      })
    ).pipe(Effect.provide(NodeWorker.layer(spawner)))
    yield* Queue.offerAll(idle, slots)
    return StageExecutor.of({
      name: `worker threads ×${size}`,
      capacity: size,
      runs: "all",
      execute: (task, emit) => execute(idle, task, emit)
    })
  })

/** The pool as a layer providing the StageExecutor the runner sends its tasks to. */
export const layer = (options: WorkerPoolOptions = {}): Layer.Layer<StageExecutor, StageError> => Layer.effect(StageExecutor, make(options))
