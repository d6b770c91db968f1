import { randomUUID } from "node:crypto"
import * as path from "node:path"
import { ArtifactStore, StageError, StageExecutor, type StageTask } from "@embedflow/core"
import { Effect, Layer } from "effect"
import { EntityAddress, EntityId, EntityType, MessageStorage, Sharding } from "effect/cluster"
import type { ConfigError } from "effect/Config"
import type { SqlError } from "effect/sql/SqlError"
import { packInputs } from "./internal/inputs.js"
import { encodeTask, errorText, inputsKeyOf, stageOf } from "./internal/wire.js"
import { manifestOf, shardName } from "./internal/manifest.js"
import { type ClusterTimings, redactUrl, shardingConfigOf, shardingLayer, sqlLayer } from "./internal/layers.js"
import { ShardEntity } from "./ShardEntity.js"

export interface ClusterExecutorOptions extends ClusterTimings {
  /** PostgreSQL URL shared by the runners (`embedflow worker --cluster URL`). */
  readonly url: string
  /** Shards in flight at once (default 32): enough to keep every runner busy. */
  readonly capacity?: number | undefined
}

const toStageError = (task: StageTask) => (e: unknown) =>
  e instanceof StageError ? e : new StageError({ message: `shard ${shardName(task.nodeId, task.shard)} on the cluster: ${errorText(e)}`, cause: e })

/**
 * A StageExecutor that sends each shard of a sharded stage to a runner of an effect/cluster cluster
 * (`runWorker`) as a persisted message. The shard's inputs go into the shared store first and the
 * message carries their key; the runner stores the outputs under the shard's key, where the
 * executor reads them back (so the runner does not store them a second time).
 * Needs the ArtifactStore the runners share (same folder, or the same S3-compatible bucket).
 */
export const layer = (options: ClusterExecutorOptions): Layer.Layer<StageExecutor, ConfigError | SqlError, ArtifactStore> =>
  Layer.effect(
    StageExecutor,
    Effect.gen(function* () {
      const store = yield* ArtifactStore
      const clientFor = yield* ShardEntity.client
      const sharding = yield* Sharding.Sharding
      const messages = yield* MessageStorage.MessageStorage
      // One attempt per executor (per run): a failure stored for an earlier run's message does not answer this one.
      const attempt = randomUUID()
      const execute = (task: StageTask) =>
        Effect.gen(function* () {
          const stage = yield* Effect.tryPromise({ try: () => stageOf(task.module, task.stage), catch: toStageError(task) })
          const inputsKey = inputsKeyOf(task.key)
          const { layout, parts } = packInputs(stage.inputs, task.inputs, path.dirname(path.dirname(store.entryDir(inputsKey))))
          if (!(yield* store.has(inputsKey))) {
            const types = Object.fromEntries(Object.entries(parts).map(([part, p]) => [part, p.type]))
            const values = Object.fromEntries(Object.entries(parts).map(([part, p]) => [part, p.value]))
            yield* store.write(manifestOf(inputsKey, stage, `${shardName(task.nodeId, task.shard)} inputs`, task.params, types, 0), types, values)
          }
          // One entity per shard and run: it spreads shards over the runners, and its messages are this run's alone.
          const entityId = `${task.key}.${attempt}`
          yield* clientFor(entityId).RunShard({ key: task.key, attempt, task: encodeTask(task), inputs: inputsKey, layout: JSON.stringify(layout) })
          const values = yield* store.read(task.key, stage.outputs)
          // The message, its reply and the inputs entry served their purpose (leftovers are harmless: gc removes
          // unreferenced entries, and rows only take space).
          yield* messages
            .clearAddress(EntityAddress.make({ shardId: sharding.getShardId(EntityId.make(entityId), "default"), entityType: EntityType.make(ShardEntity.type), entityId: EntityId.make(entityId) }))
            .pipe(Effect.ignore)
          yield* store.remove(inputsKey).pipe(Effect.ignore)
          return values
        }).pipe(
          Effect.catchTag("ShardFailed", (e) => Effect.fail(new StageError({ message: `${e.message} (on runner ${e.runner})`, cause: e }))),
          Effect.mapError(toStageError(task))
        )
      return StageExecutor.of({
        name: `cluster ${redactUrl(options.url)}`,
        capacity: options.capacity ?? 32,
        runs: "shards",
        execute: (task) => execute(task)
      })
    })
  ).pipe(Layer.provide(shardingLayer(true, shardingConfigOf(options))), Layer.provide(sqlLayer(options.url)))
