import { NodeClusterSocket } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { Duration, Redacted } from "effect"
import type { ShardingConfig } from "effect/cluster"

/** Timings of the cluster's failure detection, in seconds; the defaults are effect/cluster's own. */
export interface ClusterTimings {
  /** How often a runner renews its shard locks and heartbeat (default 10). */
  readonly lockRefreshSeconds?: number | undefined
  /** After how long without a heartbeat a runner counts as gone and its shards move (default 35). */
  readonly lockExpirationSeconds?: number | undefined
  /** How often runners poll the database for unprocessed messages (default 10; new messages are also pushed). */
  readonly messagePollSeconds?: number | undefined
  /** How often runners ping each other (default 60). */
  readonly healthCheckSeconds?: number | undefined
}

export const shardingConfigOf = (t: ClusterTimings = {}): Partial<ShardingConfig.ShardingConfig["Service"]> => ({
  ...(t.lockRefreshSeconds !== undefined ? { shardLockRefreshInterval: Duration.seconds(t.lockRefreshSeconds) } : {}),
  ...(t.lockExpirationSeconds !== undefined ? { shardLockExpiration: Duration.seconds(t.lockExpirationSeconds) } : {}),
  ...(t.messagePollSeconds !== undefined ? { entityMessagePollInterval: Duration.seconds(t.messagePollSeconds) } : {}),
  ...(t.healthCheckSeconds !== undefined ? { runnerHealthCheckInterval: Duration.seconds(t.healthCheckSeconds) } : {})
})

/** The PostgreSQL pool that holds the cluster's messages, replies, runners and shard locks. */
export const sqlLayer = (url: string) => PgClient.layer({ url: Redacted.make(url), applicationName: "embedflow-cluster" })

/** Kubernetes instead of pings to tell live runners from dead ones (pod readiness, read with the pod's service account). */
export interface KubernetesHealth {
  readonly namespace?: string | undefined
  readonly labelSelector?: string | undefined
}

export const shardingLayer = <const ClientOnly extends boolean>(
  clientOnly: ClientOnly,
  config: Partial<ShardingConfig.ShardingConfig["Service"]>,
  kubernetes?: KubernetesHealth
) =>
  NodeClusterSocket.layer({
    clientOnly,
    storage: "sql",
    shardingConfig: config,
    ...(kubernetes ? { runnerHealth: "k8s" as const, runnerHealthK8s: kubernetes } : {})
  })

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for logs. */
export const redactUrl = (url: string): string => url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@")

