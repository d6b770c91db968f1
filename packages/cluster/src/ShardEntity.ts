import { Schema } from "effect"
import { ClusterSchema, Entity } from "effect/cluster"
import { Rpc } from "effect/rpc"

/** A shard's stage failed on a runner (the stage's own error, not a lost runner: those are retried by the cluster). */
export class ShardFailed extends Schema.TaggedError<ShardFailed>()("ShardFailed", {
  runner: Schema.String,
  message: Schema.String
}) {}

/** What a runner answers once the shard's outputs are in the shared store under `key`. */
export const ShardDone = Schema.Struct({
  runner: Schema.String,
  /** False when the entry was already there (a redelivery after a runner died between storing and replying). */
  computed: Schema.Boolean
})

/**
 * Runs one StageTask. The message carries no data: the task's description (JSON, without inputs) and
 * the key of a store entry holding its inputs (folders by path), so a message stays small whatever the
 * shard's size.
 * `attempt` tells apart two runs that send the same shard (the stored reply of a failed attempt must
 * not answer a new one); within one run, resends of the same shard are one message.
 */
export const RunShard = Rpc.make("RunShard", {
  payload: {
    key: Schema.String,
    attempt: Schema.String,
    task: Schema.String,
    /** The store entry holding the inputs' parts. */
    inputs: Schema.String,
    /** Which port is which part, or a folder's path (JSON of an InputsLayout). */
    layout: Schema.String
  },
  success: ShardDone,
  error: ShardFailed,
  primaryKey: ({ key, attempt }) => `${key}/${attempt}`
})

/**
 * One entity per shard (and run), so effect/cluster spreads shards over the runners by the id's hash.
 * Persisted: messages and replies live in PostgreSQL, so they survive a runner dying (its shards move
 * to the others, which pick up the unprocessed messages) and the database restarting.
 */
export const ShardEntity = Entity.make("EmbedflowShard", [RunShard]).annotateRpcs(ClusterSchema.Persisted, true)
