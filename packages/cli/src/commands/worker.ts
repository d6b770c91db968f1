import * as path from "node:path"
import { Effect, Option } from "effect"
import { CliError, Command, Flag } from "effect/cli"
import { runWorker } from "@embedflow/cluster"
import { intFlag, storeFlag } from "../internal/options.js"
import { Session } from "../Session.js"

const text = (name: string, metavar: string, description: string) =>
  Flag.String(name).pipe(Flag.withMetavar(metavar), Flag.withDescription(description), Flag.optional)
const seconds = (name: string, description: string) =>
  Flag.Finite(name).pipe(Flag.filter((n) => n > 0, () => "a positive number of seconds"), Flag.withDescription(description), Flag.optional)

/** `--cluster URL`: the PostgreSQL database the runners and `run --cluster` share. */
export const clusterFlag = Flag.String("cluster").pipe(
  Flag.withMetavar("postgres-url"),
  Flag.withDescription("PostgreSQL URL of the cluster (messages, runners, shard locks)")
)

/** `embedflow worker --cluster URL`: a runner process that computes the shards `run --cluster URL` sends. */
export const workerCommand = Command.make(
  "worker",
  {
    cluster: clusterFlag,
    store: storeFlag,
    host: text("host", "name", "host name the other runners and runs reach this runner at (default: this machine's host name)"),
    port: intFlag("port", 1, "port of this runner's socket server (default 34431)").pipe(Flag.optional),
    listenHost: text("listen-host", "address", "address to listen on (default: --host; 0.0.0.0 in a container)"),
    concurrency: intFlag("concurrency", 1, "shards computed at once (default 1: a stage uses the cores through its own threads)").pipe(Flag.optional),
    journal: text("journal", "file", "append one JSON line per shard event (started, stored, cached, failed) to this file"),
    lockRefresh: seconds("lock-refresh", "how often this runner refreshes its shard locks"),
    lockExpiration: seconds("lock-expiration", "after how long a silent runner's shards go to the others"),
    messagePoll: seconds("message-poll", "how often unprocessed messages are read from PostgreSQL"),
    healthCheck: seconds("health-check", "how often other runners are pinged"),
    k8sNamespace: text("k8s-namespace", "namespace", "runners are Kubernetes pods: judge liveness by pod readiness in this namespace (not tested here)"),
    k8sSelector: text("k8s-selector", "labels", "label selector of the runner pods"),
    s3Endpoint: text("s3-endpoint", "url", "share cache entries through this S3-compatible endpoint instead of a shared file system"),
    s3Bucket: text("s3-bucket", "name", "the bucket (with --s3-endpoint; credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)"),
    s3Region: text("s3-region", "region", "the bucket's region"),
    s3Prefix: text("s3-prefix", "prefix", "key prefix of the store's objects in the bucket")
  },
  (input) =>
    Effect.gen(function* () {
      const session = yield* Session
      const opt = Option.getOrUndefined
      const endpoint = opt(input.s3Endpoint)
      const bucket = opt(input.s3Bucket)
      const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = process.env
      const s3 =
        endpoint && bucket && accessKeyId && secretAccessKey
          ? { endpoint, bucket, region: opt(input.s3Region), prefix: opt(input.s3Prefix), accessKeyId, secretAccessKey, sessionToken }
          : undefined
      const k8sNamespace = opt(input.k8sNamespace)
      const k8sSelector = opt(input.k8sSelector)
      // Stopped by SIGINT/SIGTERM (its shards go to the other runners): that is a worker's normal end.
      session.interruptionIsNormalEnd()
      return yield* runWorker({
        url: input.cluster,
        storeRoot: path.resolve(input.store),
        s3,
        host: opt(input.host),
        port: opt(input.port),
        listenHost: opt(input.listenHost),
        concurrency: opt(input.concurrency),
        journal: opt(input.journal),
        lockRefreshSeconds: opt(input.lockRefresh),
        lockExpirationSeconds: opt(input.lockExpiration),
        messagePollSeconds: opt(input.messagePoll),
        healthCheckSeconds: opt(input.healthCheck),
        kubernetes: k8sNamespace !== undefined || k8sSelector !== undefined ? { namespace: k8sNamespace, labelSelector: k8sSelector } : undefined
      })
    })
).pipe(
  Command.withDescription(
    "Starts a cluster runner: it hosts the shard entity of effect/cluster (messages and runner registry in PostgreSQL), computes the shards that `embedflow run --cluster URL` sends, and writes them into the store every runner and run shares. Stops gracefully on SIGINT/SIGTERM; a runner that dies has its shards reassigned."
  ),
  Command.withShortDescription("start a cluster runner for `run --cluster`"),
  Command.validate((input) => {
    const s3 = Option.isSome(input.s3Endpoint) || Option.isSome(input.s3Bucket)
    const complete = Option.isSome(input.s3Endpoint) && Option.isSome(input.s3Bucket) && !!process.env.AWS_ACCESS_KEY_ID && !!process.env.AWS_SECRET_ACCESS_KEY
    return s3 && !complete
      ? Effect.fail(new CliError.ValidationError({ message: "an S3 store needs --s3-endpoint, --s3-bucket, and AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment" }))
      : Effect.void
  }),
  Command.withExamples([
    { command: "embedflow worker --cluster postgres://embedflow@db:5432/embedflow --store /shared/store", description: "one runner; start one per machine" }
  ])
)
