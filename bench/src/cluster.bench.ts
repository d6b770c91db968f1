/**
 * What a shard costs on the cluster: the same sharded graph (Cranfield + CISI abstracts ×copies,
 * hashed bag-of-words vectors in shards of `items`) run in-process and with its shards sent through
 * effect/cluster to runner processes on loopback (PostgreSQL from tools/postgres.sh, a store in a
 * temp folder), measured in the same run. The embed node's time is compared: with one runner the
 * shards run one after another as in-process, so (cluster − in-process) / shards is the overhead of
 * one shard (inputs written to the store, a persisted message, the runner reading them, storing the
 * outputs, the reply, the outputs read back); with two runners, how far two processes make up for it.
 * The outputs are checked bit-identical.
 *
 *   node --conditions=source --import tsx bench/src/cluster.bench.ts [copies=20] [items=256]
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { ClusterExecutor } from "@embedflow/cluster"
import { ArtifactStore, Graph, makeFileSystem, Plugin, Runner, type Vectors } from "@embedflow/core"
import { Effect, Layer } from "effect"

const quick = process.env.BENCH_QUICK === "1"
const copies = Number(process.argv[2] ?? (quick ? 1 : 20))
const items = Number(process.argv[3] ?? 256)
const repo = path.resolve(import.meta.dirname, "../..")
const pluginUrl = pathToFileURL(path.join(import.meta.dirname, "clusterPlugin.ts")).href
const postgresScript = path.join(repo, "tools/postgres.sh")
// The runners are what a user starts: `embedflow worker --cluster URL` (from source, like the rest of the bench).
const cliScript = path.join(repo, "packages/cli/src/bin.ts")
const timings = { lockRefreshSeconds: 2, lockExpirationSeconds: 8, messagePollSeconds: 2, healthCheckSeconds: 5 }

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "embedflow-cluster-bench-"))
const pgDir = path.join("/tmp", `embedflow-pg-bench-${process.pid}`)
const children: Array<ChildProcess> = []
const cleanup = () => {
  for (const c of children) c.kill("SIGKILL")
  try {
    execFileSync("bash", [postgresScript, "remove", pgDir], { stdio: "inherit" })
  } catch {}
  fs.rmSync(tmp, { recursive: true, force: true })
}
process.on("exit", cleanup)

const graph = { name: "cluster-bench", seed: 5, nodes: [{ id: "corpus", stage: "bench-cluster/corpus", params: { copies } }, { id: "embed", stage: "bench-cluster/embed", inputs: { texts: "corpus.texts" } }] }

/** Runs the graph on a fresh store; returns the embed node's seconds, its shard count and vectors. */
const run = (name: string, url?: string) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const plugin = yield* Effect.promise(() => Plugin.load(pluginUrl))
      const g = yield* Graph.validate(graph, new Plugin.Registry([plugin]))
      let seconds = 0
      const result = yield* Runner.run(g, { shardItems: items, listeners: [(e) => void (e.type === "node-finished" && e.nodeId === "embed" && (seconds = e.seconds))] })
      return { seconds, vectors: result.nodes.embed!.outputs.vectors as Vectors }
    }).pipe(
      Effect.provide(
        url
          ? ClusterExecutor.layer({ url, ...timings }).pipe(Layer.provideMerge(Layer.succeed(ArtifactStore, makeFileSystem(path.join(tmp, name)))))
          : Layer.succeed(ArtifactStore, makeFileSystem(path.join(tmp, name)))
      )
    )
  )

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

const psql = (url: string, q: string) => execFileSync("psql", [url, "-tAq", "-c", q], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()

const startRunner = async (url: string, store: string) => {
  const port = await freePort()
  const log = fs.openSync(path.join(tmp, `runner-${port}.log`), "a")
  const flags = Object.entries({ "lock-refresh": timings.lockRefreshSeconds, "lock-expiration": timings.lockExpirationSeconds, "message-poll": timings.messagePollSeconds, "health-check": timings.healthCheckSeconds }).flatMap(([k, v]) => [`--${k}`, String(v)])
  children.push(
    spawn(process.execPath, ["--conditions=source", "--import", "tsx", cliScript, "worker", "--cluster", url, "--store", store, "--host", "127.0.0.1", "--port", String(port), ...flags], { stdio: ["ignore", log, log] })
  )
}

const waitForRunners = async (url: string, n: number) => {
  const deadline = Date.now() + 120_000
  for (;;) {
    let ready = 0
    try {
      const runners = Number(psql(url, "SELECT count(*) FROM cluster_runners WHERE healthy"))
      const lockers = Number(psql(url, "SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = current_database()"))
      ready = Math.min(runners, lockers)
    } catch {}
    if (ready >= n) return
    if (Date.now() > deadline) throw new Error(`${n} runners did not come up in 120 s (logs in ${tmp})`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

const same = (a: Vectors, b: Vectors) => a.count === b.count && Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength))

const url = execFileSync("bash", [postgresScript, "start", pgDir], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim()
// Both cluster runs share one store folder per run (fresh each time), as runners share a file system.
const local = await run("local-warmup")
const local2 = await run("local")
const inProcess = Math.min(local.seconds, local2.seconds)
const shards = Math.ceil(local.vectors.count / items)
console.log(`${local.vectors.count} texts (${copies}× Cranfield + CISI) in ${shards} shards of ${items}; ${os.cpus().length} cores`)
console.log(`in-process:          ${inProcess.toFixed(2)} s  (${((inProcess * 1000) / shards).toFixed(1)} ms per shard)`)

const storeOne = path.join(tmp, "cluster-1")
await startRunner(url, storeOne)
await waitForRunners(url, 1)
const one = await run("cluster-1", url)
if (!same(one.vectors, local.vectors)) throw new Error("cluster output (1 runner) differs from in-process")
const overhead = ((one.seconds - inProcess) * 1000) / shards
console.log(`cluster, 1 runner:   ${one.seconds.toFixed(2)} s  (${((one.seconds * 1000) / shards).toFixed(1)} ms per shard; overhead ${overhead.toFixed(1)} ms per shard; ${(one.seconds / inProcess).toFixed(2)}x in-process time)`)

// A second runner on a second database sharing the same store folder layout: a fresh two-runner cluster.
const url2 = url.replace(/\/[^/]*$/, "/bench2")
psql(url, "CREATE DATABASE bench2")
const storeTwo = path.join(tmp, "cluster-2")
await startRunner(url2, storeTwo)
await startRunner(url2, storeTwo)
await waitForRunners(url2, 2)
const two = await run("cluster-2", url2)
if (!same(two.vectors, local.vectors)) throw new Error("cluster output (2 runners) differs from in-process")
console.log(`cluster, 2 runners:  ${two.seconds.toFixed(2)} s  (${(inProcess / two.seconds).toFixed(2)}x in-process speed)`)
console.log(`outputs bit-identical: yes`)
process.exit(0)
