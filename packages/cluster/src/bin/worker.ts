#!/usr/bin/env node
// embedflow-cluster-worker --cluster URL --store DIR [--host H] [--port P] [--listen-host H] [--concurrency N] [--journal FILE] [--k8s-namespace NS]
// A runner process for `embedflow run --cluster URL`; stops gracefully on SIGINT/SIGTERM.
import { parseArgs } from "node:util"
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Exit, Runtime } from "effect"
import { runWorker } from "../Worker.js"

const usage = "usage: embedflow-cluster-worker --cluster URL --store DIR [--host H] [--port P] [--listen-host H] [--concurrency N] [--journal FILE] [--lock-refresh S] [--lock-expiration S] [--message-poll S] [--health-check S] [--k8s-namespace NS] [--k8s-selector LABELS] [--s3-endpoint URL --s3-bucket NAME [--s3-region R] [--s3-prefix P]] (S3 credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)"
const seconds = { type: "string" } as const
let values: ReturnType<typeof parse>["values"]
function parse() {
  return parseArgs({
    options: {
      cluster: { type: "string" },
      store: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      "listen-host": { type: "string" },
      concurrency: { type: "string" },
      journal: { type: "string" },
      "lock-refresh": seconds,
      "lock-expiration": seconds,
      "message-poll": seconds,
      "health-check": seconds,
      "k8s-namespace": { type: "string" },
      "s3-endpoint": { type: "string" },
      "s3-bucket": { type: "string" },
      "s3-region": { type: "string" },
      "s3-prefix": { type: "string" },
      "k8s-selector": { type: "string" },
      help: { type: "boolean" }
    },
    strict: true
  })
}
try {
  values = parse().values
} catch (e) {
  console.error(`${e instanceof Error ? e.message : String(e)}\n${usage}`)
  process.exit(2)
}
if (values.help) {
  console.log(usage)
  process.exit(0)
}
const number = (flag: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${flag}: expected a positive number, got '${v}'\n${usage}`)
    process.exit(2)
  }
  return n
}
if (!values.cluster || !values.store) {
  console.error(`--cluster and --store are required\n${usage}`)
  process.exit(2)
}
const s3 = (() => {
  const endpoint = values["s3-endpoint"]
  const bucket = values["s3-bucket"]
  if (endpoint === undefined && bucket === undefined) return undefined
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = process.env
  if (!endpoint || !bucket || !accessKeyId || !secretAccessKey) {
    console.error(`an S3 store needs --s3-endpoint, --s3-bucket, and AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment\n${usage}`)
    process.exit(2)
  }
  return { endpoint, bucket, region: values["s3-region"], prefix: values["s3-prefix"], accessKeyId, secretAccessKey, sessionToken }
})()
NodeRuntime.runMain(
  runWorker({
    url: values.cluster,
    storeRoot: values.store,
    s3,
    host: values.host,
    port: number("port", values.port),
    listenHost: values["listen-host"],
    concurrency: number("concurrency", values.concurrency),
    journal: values.journal,
    lockRefreshSeconds: number("lock-refresh", values["lock-refresh"]),
    lockExpirationSeconds: number("lock-expiration", values["lock-expiration"]),
    messagePollSeconds: number("message-poll", values["message-poll"]),
    healthCheckSeconds: number("health-check", values["health-check"]),
    kubernetes:
      values["k8s-namespace"] !== undefined || values["k8s-selector"] !== undefined
        ? { namespace: values["k8s-namespace"], labelSelector: values["k8s-selector"] }
        : undefined
  }),
  {
    // Stopped by SIGINT/SIGTERM (its shards released to the other runners): a clean exit, not 130.
    teardown: (exit, onExit) => (Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit))
  }
)
