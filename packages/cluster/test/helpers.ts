import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { promisify } from "node:util"
import { ArtifactStore, Graph, makeFileSystem, Plugin, Runner, type Vectors } from "@embedflow/core"
import { Effect, Layer } from "effect"
import * as ClusterExecutor from "../src/ClusterExecutor.js"
import type { ClusterTimings } from "../src/internal/layers.js"
import type { JournalLine } from "../src/Worker.js"

const packageDir = path.resolve(import.meta.dirname, "..")
export const pluginUrl = pathToFileURL(path.join(import.meta.dirname, "fixtures/slowPlugin.ts")).href

/** Short failure detection, so a killed runner's shards move within seconds. */
export const fastTimings: ClusterTimings = { lockRefreshSeconds: 1, lockExpirationSeconds: 4, messagePollSeconds: 1, healthCheckSeconds: 2 }

export const tempDir = (prefix = "embedflow-cluster-") => fs.mkdtempSync(path.join(os.tmpdir(), prefix))

let databases = 0
/** A new, empty database on the test server: each test's cluster starts from no messages and no runners. */
export const freshDatabase = (serverUrl: string): string => {
  const name = `cluster_${process.pid}_${++databases}`
  execFileSync("psql", [serverUrl, "-q", "-c", `CREATE DATABASE ${name}`], { stdio: "inherit" })
  return serverUrl.replace(/\/[^/]*$/, `/${name}`)
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
    server.on("error", reject)
  })

export interface RunnerProcess {
  readonly port: number
  readonly journal: string
  readonly log: string
  readonly child: ChildProcess
  /** SIGTERM and wait for the exit (graceful: its shards are released). */
  readonly stop: () => Promise<void>
  /** SIGKILL: no goodbye, its shard locks expire. */
  readonly kill: () => Promise<void>
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())))

/** A runner process: `embedflow worker --cluster URL …`, the CLI from source under tsx, as a user starts one. */
export const startRunner = async (options: {
  url: string
  store: string
  dir: string
  timings?: ClusterTimings
  /** The address the runner listens on and is reached at (default 127.0.0.1). */
  host?: string
  /** A command to run the runner under (`ip netns exec NAME`). */
  prefix?: ReadonlyArray<string>
  /** More flags (`--s3-endpoint …`) and environment variables. */
  args?: ReadonlyArray<string>
  env?: Readonly<Record<string, string>>
}): Promise<RunnerProcess> => {
  const port = await freePort()
  const journal = path.join(options.dir, `runner-${port}.jsonl`)
  const log = path.join(options.dir, `runner-${port}.log`)
  const t = options.timings ?? fastTimings
  const args = [
    "--conditions=source",
    "--import",
    "tsx",
    path.join(packageDir, "../cli/src/bin.ts"),
    "worker",
    ...["--cluster", options.url, "--store", options.store, "--host", options.host ?? "127.0.0.1", "--port", String(port), "--journal", journal],
    ...(t.lockRefreshSeconds ? ["--lock-refresh", String(t.lockRefreshSeconds)] : []),
    ...(t.lockExpirationSeconds ? ["--lock-expiration", String(t.lockExpirationSeconds)] : []),
    ...(t.messagePollSeconds ? ["--message-poll", String(t.messagePollSeconds)] : []),
    ...(t.healthCheckSeconds ? ["--health-check", String(t.healthCheckSeconds)] : []),
    ...(options.args ?? [])
  ]
  const out = fs.openSync(log, "a")
  const [command, ...prefix] = [...(options.prefix ?? []), process.execPath]
  const child = spawn(command!, [...prefix, ...args], { cwd: packageDir, stdio: ["ignore", out, out], env: { ...process.env, ...options.env } })
  fs.closeSync(out)
  return {
    port,
    journal,
    log,
    child,
    stop: async () => {
      child.kill("SIGTERM")
      await exited(child)
    },
    kill: async () => {
      child.kill("SIGKILL")
      await exited(child)
    }
  }
}

export const readJournal = (file: string): Array<JournalLine> =>
  fs.existsSync(file)
    ? fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as JournalLine)
    : []

export const waitFor = async (what: string, condition: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export const graph = (n: number, rounds: number, failItem?: number) => ({
  name: "cluster-test",
  seed: 11,
  nodes: [
    { id: "src", stage: "slow/source", params: { n } },
    { id: "embed", stage: "slow/embed", params: failItem === undefined ? { rounds } : { rounds, failItem }, inputs: { texts: "src.texts" } }
  ]
})

/** A store that records the node name of every entry written through it (the run's own writes). */
export const countingStore = (root: string | ArtifactStore["Service"]) => {
  const store = typeof root === "string" ? makeFileSystem(root) : root
  const writes: Array<string> = []
  return { writes, store: ArtifactStore.of({ ...store, write: (manifest, ports, values, options) => Effect.sync(() => writes.push(manifest.nodeId)).pipe(Effect.andThen(store.write(manifest, ports, values, options))) }) }
}

/** Runs the test graph in this process, or with its shards on the cluster at `url`; returns the embed node's vectors. */
export const runGraph = (store: ArtifactStore["Service"], n: number, rounds: number, cluster?: { url: string; timings?: ClusterTimings }, failItem?: number) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const plugin = yield* Effect.promise(() => Plugin.load(pluginUrl))
      const g = yield* Graph.validate(graph(n, rounds, failItem), new Plugin.Registry([plugin]))
      const result = yield* Runner.run(g, {})
      return result.nodes.embed!.outputs.vectors as Vectors
    }).pipe(
      Effect.provide(
        cluster
          ? ClusterExecutor.layer({ url: cluster.url, ...(cluster.timings ?? fastTimings) }).pipe(Layer.provideMerge(Layer.succeed(ArtifactStore, store)))
          : Layer.succeed(ArtifactStore, store)
      )
    )
  )

/** A sharded stage with a folder input (another node's output) and a list input. */
export const saltedGraph = {
  name: "salted",
  seed: 1,
  nodes: [
    { id: "src", stage: "slow/source", params: { n: 23 } },
    { id: "few", stage: "slow/source", params: { n: 4 } },
    { id: "folder", stage: "slow/folder", params: { salt: 7 } },
    { id: "salted", stage: "slow/salted", inputs: { texts: "src.texts", salt: "folder.dir", others: ["few.texts", "src.texts"] } }
  ]
}

/** Runs any graph of the test plugin, in-process or on the cluster at `url`; returns every node's result. */
export const runNodes = (store: ArtifactStore["Service"], spec: unknown, url?: string) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const plugin = yield* Effect.promise(() => Plugin.load(pluginUrl))
      const g = yield* Graph.validate(spec, new Plugin.Registry([plugin]))
      return (yield* Runner.run(g, {})).nodes
    }).pipe(
      Effect.provide(
        url ? ClusterExecutor.layer({ url, ...fastTimings }).pipe(Layer.provideMerge(Layer.succeed(ArtifactStore, store))) : Layer.succeed(ArtifactStore, store)
      )
    )
  )

export const sameVectors = (a: Vectors, b: Vectors) =>
  a.dim === b.dim && a.count === b.count && Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength)) && JSON.stringify(a.ids) === JSON.stringify(b.ids)

export const psqlValue = (url: string, query: string): string => execFileSync("psql", [url, "-tAq", "-c", query], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()

/**
 * Waits until `n` runners are registered and healthy and each holds shard locks (advisory locks on
 * its own connection): the cluster has spread its shards, so a run uses every runner.
 */
export const waitForCluster = async (url: string, n: number, timeoutMs = 60_000) => {
  const holders = () => {
    try {
      const runners = Number(psqlValue(url, "SELECT count(*) FROM cluster_runners WHERE healthy"))
      const lockers = Number(psqlValue(url, "SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = current_database()"))
      return Math.min(runners, lockers)
    } catch {
      return 0 // tables not created yet
    }
  }
  await waitFor(`${n} runners holding shards`, () => holders() >= n, timeoutMs)
}

export const postgresScript = path.resolve(packageDir, "../../tools/postgres.sh")

const postgres = (command: string, dir: string, env?: Record<string, string>) =>
  promisify(execFile)("bash", [postgresScript, command, dir], { env: { ...process.env, ...env } }).then((r) => r.stdout.trim())

/** A second PostgreSQL server (listening on `listen`, trusting clients from `trust`), for tests that need their own. */
export const startPostgres = (dir: string, listen: string, trust: string) => postgres("start", dir, { POSTGRES_LISTEN: listen, POSTGRES_TRUST_CIDR: trust })
export const removePostgres = (dir: string) => postgres("remove", dir)

/** Stops the test server, leaves it down for `downMs` (this process's event loop keeps running), starts it again on the same port. */
export const restartPostgres = async (dir: string, downMs: number) => {
  await postgres("stop", dir)
  await new Promise((r) => setTimeout(r, downMs))
  await postgres("start", dir)
}
