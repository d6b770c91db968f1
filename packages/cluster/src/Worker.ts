import * as fs from "node:fs"
import * as os from "node:os"
import { ArtifactStore, type DirectoryRef, makeFileSystem, makeTaskHost, PortType, StageError, type StageTask } from "@embedflow/core"
import { Effect, Layer, Option, Semaphore } from "effect"
import type { ConfigError } from "effect/Config"
import type { SocketServerError } from "effect/socket/SocketServer"
import type { SqlError } from "effect/sql/SqlError"
import { RunnerAddress } from "effect/cluster"
import { type ClusterTimings, type KubernetesHealth, redactUrl, shardingConfigOf, shardingLayer, sqlLayer } from "./internal/layers.js"
import { manifestOf, shardName } from "./internal/manifest.js"
import { folderEntries, type InputsLayout, partTypes, unpackInputs } from "./internal/inputs.js"
import { decodeTask, errorText, stageOf, type WireTask } from "./internal/wire.js"
import * as S3Store from "./S3Store.js"
import type { S3StoreOptions } from "./S3Store.js"
import { ShardEntity, ShardFailed } from "./ShardEntity.js"

export interface WorkerOptions extends ClusterTimings {
  /** PostgreSQL URL of the cluster (the same one `embedflow run --cluster URL` uses). */
  readonly url: string
  /** Root of the artifact store every runner and the run share (a shared file system), or this runner's local folder with `s3`. */
  readonly storeRoot: string
  /** Share cache entries through an S3-compatible bucket instead of a shared file system. */
  readonly s3?: Omit<S3StoreOptions, "localRoot"> | undefined
  /** Host name other runners and clients reach this runner at (default: `os.hostname()`). */
  readonly host?: string | undefined
  /** Port of this runner's socket server (default 34431). */
  readonly port?: number | undefined
  /** Address to listen on (default: `host`); `0.0.0.0` behind NAT or in a container. */
  readonly listenHost?: string | undefined
  /** Shards this runner computes at once (default 1: a stage uses the cores through its own threads). */
  readonly concurrency?: number | undefined
  /**
   * Runners in Kubernetes: tell live runners from dead ones by pod readiness instead of pings (the pod's
   * service account needs `get`/`list` on pods; `host` should be the pod IP). Not tested here.
   */
  readonly kubernetes?: KubernetesHealth | undefined
  /** Appends one JSON line per shard event (`started`, `stored`, `cached`, `failed`, `interrupted`) to this file. */
  readonly journal?: string | undefined
}

/** Reads a folder input's entry by its key and port (only the folder's presence is checked by the format). */
const FolderPort = PortType.directory("Folder")

/** Why a runner could not start or stopped: bad sharding config, its port taken, PostgreSQL unreachable. */
export type WorkerError = ConfigError | SocketServerError | SqlError

/** One line of a runner's journal. */
export interface JournalLine {
  readonly event: "started" | "stored" | "cached" | "failed" | "interrupted"
  readonly runner: string
  readonly pid: number
  readonly key: string
  readonly shard: string
  readonly time: string
  readonly message?: string | undefined
}

/**
 * A runner: hosts the shard entity (effect/cluster, storage in PostgreSQL) and computes the shards it
 * is sent with `makeTaskHost().run`, reading their inputs from and writing their outputs to the
 * shared store. A shard already in the store (a redelivery) is answered without computing it again.
 */
export const workerLayer = (options: WorkerOptions): Layer.Layer<never, WorkerError> => {
  const host = options.host ?? os.hostname()
  const port = options.port ?? 34431
  const runner = `${host}:${port}`
  const journal = (line: Omit<JournalLine, "runner" | "pid" | "time">) => {
    // Synchronous append: the journal is complete up to a kill -9.
    if (options.journal) fs.appendFileSync(options.journal, JSON.stringify({ ...line, runner, pid: process.pid, time: new Date().toISOString() }) + "\n")
  }
  const entity = Layer.unwrap(
    Effect.gen(function* () {
      const store = yield* ArtifactStore
      const taskHost = makeTaskHost()
      yield* Effect.addFinalizer(() => Effect.promise(() => taskHost.dispose()))
      const permits = yield* Semaphore.make(Math.max(1, options.concurrency ?? 1))
      const runShard = (payload: { readonly key: string; readonly task: string; readonly inputs: string; readonly layout: string }) => {
        let wire: WireTask
        try {
          wire = decodeTask(payload.task)
        } catch (e) {
          return Effect.fail(new ShardFailed({ runner, message: `shard ${payload.key}: a malformed task (${errorText(e)})` }))
        }
        const name = shardName(wire.nodeId, wire.shard)
        return Effect.gen(function* () {
          if (yield* store.has(payload.key)) {
            journal({ event: "cached", key: payload.key, shard: name })
            return { runner, computed: false }
          }
          journal({ event: "started", key: payload.key, shard: name })
          const started = performance.now()
          const stage = yield* Effect.tryPromise({ try: () => stageOf(wire.module, wire.stage), catch: (e) => e })
          const layout = yield* Effect.try({ try: () => JSON.parse(payload.layout) as InputsLayout, catch: (e) => new Error(`a malformed inputs layout (${errorText(e)})`) })
          const folders = new Map<string, DirectoryRef>()
          for (const { entry, port } of folderEntries(layout)) {
            const read = yield* store.read(entry, { [port]: FolderPort })
            folders.set(`${entry}/${port}`, read[port] as DirectoryRef)
          }
          const inputs = unpackInputs(layout, yield* store.read(payload.inputs, partTypes(stage.inputs, layout)), folders)
          yield* Effect.acquireUseRelease(
            store.makeScratch(payload.key),
            (scratchDir) =>
              Effect.gen(function* () {
                const task: StageTask = { ...wire, scratchDir, inputs }
                const values = yield* taskHost.run(task, (event) => (event.type === "log" ? Effect.logInfo(`${name}: ${event.message}`) : Effect.void))
                // Rename-if-absent: if another runner got there first, its entry stays and ours is dropped.
                // Not interruptible (a shard moving away on a lost lock), so the journal says what is stored.
                yield* Effect.uninterruptible(
                  store
                    .write(manifestOf(payload.key, stage, name, wire.params, stage.outputs, (performance.now() - started) / 1000), stage.outputs, values)
                    .pipe(Effect.tap(() => Effect.sync(() => journal({ event: "stored", key: payload.key, shard: name }))))
                )
              }),
            (scratchDir) => store.removeScratch(scratchDir).pipe(Effect.ignore)
          )
          return { runner, computed: true }
        }).pipe(
          Effect.onInterrupt(() => Effect.sync(() => journal({ event: "interrupted", key: payload.key, shard: name }))),
          permits.withPermits(1),
          Effect.catch((e: unknown) => {
            const message = e instanceof StageError ? e.message : `shard ${name}: ${errorText(e)}`
            journal({ event: "failed", key: payload.key, shard: name, message })
            return Effect.fail(new ShardFailed({ runner, message }))
          })
        )
      }
      return ShardEntity.toLayer(ShardEntity.of({ RunShard: (envelope) => runShard(envelope.payload) }), { maxIdleTime: "10 seconds" })
    })
  )
  const config = {
    ...shardingConfigOf(options),
    runnerAddress: Option.some(RunnerAddress.make(host, port)),
    ...(options.listenHost !== undefined ? { runnerListenAddress: Option.some(RunnerAddress.make(options.listenHost, port)) } : {})
  }
  return entity.pipe(
    Layer.provide(shardingLayer(false, config, options.kubernetes)),
    Layer.provide(sqlLayer(options.url)),
    Layer.provide(Layer.succeed(ArtifactStore, options.s3 ? S3Store.make({ ...options.s3, localRoot: options.storeRoot }) : makeFileSystem(options.storeRoot))),
    Layer.tap(() => Effect.logInfo(`embedflow runner ${runner} on ${redactUrl(options.url)}, store ${options.s3 ? `s3 ${options.s3.endpoint}/${options.s3.bucket}/${options.s3.prefix ?? ""} (local ${options.storeRoot})` : options.storeRoot}`))
  )
}

/** Runs a runner until interrupted (SIGINT/SIGTERM under `NodeRuntime.runMain`: its shards are released to the others). */
export const runWorker = (options: WorkerOptions): Effect.Effect<never, WorkerError> => Layer.launch(workerLayer(options))
