import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { ArtifactFormat, type ArtifactStore, type Vectors } from "@embedflow/core"
import { afterEach, beforeAll, describe, expect, inject, it } from "vitest"
import {
  countingStore,
  freshDatabase,
  graph,
  pluginUrl,
  psqlValue,
  readJournal,
  restartPostgres,
  type RunnerProcess,
  runGraph,
  runNodes,
  saltedGraph,
  sameVectors,
  startRunner,
  tempDir,
  waitFor,
  waitForCluster
} from "./helpers.js"

// 144 items in shards of 8: 18 shards of about a quarter second each (on an idle core).
const N = 144
const ROUNDS = 800_000
const SHARDS = Array.from({ length: N / 8 }, (_, i) => `embed#${i}`)
let runners: Array<RunnerProcess> = []
let reference: Vectors

beforeAll(async () => {
  const t0 = performance.now()
  const dir = tempDir()
  reference = await runGraph(countingStore(path.join(dir, "local")).store, N, ROUNDS)
  fs.rmSync(dir, { recursive: true, force: true })
  console.log(`in-process run: ${((performance.now() - t0) / 1000).toFixed(1)} s`)
})

const dirs: Array<string> = []
afterEach(async () => {
  await Promise.all(runners.map((r) => r.kill()))
  runners = []
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

/** Three runners on a fresh database sharing `<dir>/shared`, ready. */
const cluster = async () => {
  const dir = tempDir()
  dirs.push(dir)
  const url = freshDatabase(inject("pgUrl"))
  const shared = path.join(dir, "shared")
  runners = await Promise.all([0, 1, 2].map(() => startRunner({ url, store: shared, dir })))
  await waitForCluster(url, 3)
  return { dir, url, shared }
}

const journals = () => runners.flatMap((r) => readJournal(r.journal))
const storedBy = () => journals().filter((l) => l.event === "stored")

/** Every shard stored exactly once, by a runner: a second computation of a shard, or one by the run, fails it. */
const expectEachShardStoredOnce = (runWrites: ReadonlyArray<string>) => {
  expect(storedBy().map((l) => l.shard).sort()).toEqual([...SHARDS].sort())
  expect(runWrites.filter((w) => /^embed#\d+$/.test(w))).toEqual([])
}

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../cli/src/bin.ts")

describe("a sharded graph on three runner processes and one PostgreSQL", () => {
  it("runs from the CLI as a user would: embedflow worker ×3, embedflow run --cluster URL", async () => {
    const { dir, url, shared } = await cluster()
    const file = path.join(dir, "graph.json")
    fs.writeFileSync(file, JSON.stringify({ ...graph(N, ROUNDS), plugins: [fileURLToPath(pluginUrl)] }))
    const { stdout } = await promisify(execFile)(process.execPath, ["--conditions=source", "--import", "tsx", cli, "run", file, "--cluster", url, "--store", shared, "--quiet"], {
      timeout: 180_000
    })
    const runDir = /run log and outputs: (.+)/.exec(stdout)![1]!
    const vectors = await ArtifactFormat.vectors.read(path.join(runDir, "outputs", "embed"), "vectors")
    expect(sameVectors(vectors, reference)).toBe(true)
    expect(storedBy().map((l) => l.shard).sort()).toEqual([...SHARDS].sort())
  })

  it("equals the in-process output, bit for bit, with the shards spread over the runners", async () => {
    const { url, shared } = await cluster()
    const { store, writes } = countingStore(shared)
    const t0 = performance.now()
    const clustered = await runGraph(store, N, ROUNDS, { url })
    console.log(`cluster run: ${((performance.now() - t0) / 1000).toFixed(1)} s; ${runners.map((r) => readJournal(r.journal).filter((l) => l.event === "stored").length).join(" + ")} shards`)
    expect(sameVectors(clustered, reference)).toBe(true)
    expectEachShardStoredOnce(writes)
    // Spread: 18 shards on a hash ring of three runners (one runner left out: about 0.2 %; all on one: ~0).
    expect(runners.filter((r) => readJournal(r.journal).some((l) => l.event === "stored")).length).toBeGreaterThanOrEqual(2)
    // The run cleared its messages and replies from PostgreSQL, and its inputs entries from the store.
    expect(psqlValue(url, "SELECT count(*) FROM cluster_messages WHERE entity_type = 'EmbedflowShard'")).toBe("0")
    expect(psqlValue(url, "SELECT count(*) FROM cluster_replies")).toBe("0")
    expect(writes.filter((w) => w.endsWith(" inputs")).length).toBe(SHARDS.length)
    expect(fs.readdirSync(path.join(shared, "cache"), { recursive: true }).filter((f) => String(f).endsWith("manifest.json")).length).toBe(SHARDS.length + 2)
    // SIGTERM: the runner releases its shards and exits cleanly.
    const t1 = performance.now()
    await runners[0]!.stop()
    expect(runners[0]!.child.exitCode).toBe(0)
    expect(performance.now() - t1).toBeLessThan(20_000)
  })

  it("passes a folder input by its path (its cache entry stays whole) and a list input element by element", async () => {
    const { url, shared } = await cluster()
    const runIt = (store: ArtifactStore["Service"], clusterUrl?: string) => runNodes(store, saltedGraph, clusterUrl)
    const localDir = tempDir()
    dirs.push(localDir)
    const local = await runIt(countingStore(localDir).store)
    const clustered = await runIt(countingStore(shared).store, url)
    const vectors = (r: typeof local) => r.salted!.outputs.vectors as Vectors
    expect(sameVectors(vectors(clustered), vectors(local))).toBe(true)
    expect(Array.from(vectors(clustered).data.slice(0, 3))).toEqual([7, 7, 27])
    expect(fs.readFileSync(path.join(clustered.folder!.dir, "dir", "salt.txt"), "utf8")).toBe("7")
    expect(storedBy().map((l) => l.shard).sort()).toEqual(["salted#0", "salted#1", "salted#2", "salted#3", "salted#4"])
  })

  it("fails the run when a shard's stage fails on a runner, naming the shard, the runner and the error", async () => {
    const { url, shared } = await cluster()
    const run = runGraph(countingStore(shared).store, N, ROUNDS, { url }, 21)
    await expect(run).rejects.toThrow(/node 'embed'[\s\S]*injected failure at item 21 \(on runner 127\.0\.0\.1:\d+\)/)
    const failed = journals().filter((l) => l.event === "failed")
    expect(failed.map((l) => l.shard)).toEqual(["embed#2"])
  })

  it("survives kill -9 of a runner mid-shard: its shards move to the others, same output", async () => {
    const { url, shared } = await cluster()
    const { store, writes } = countingStore(shared)
    const run = runGraph(store, N, ROUNDS, { url })
    // Kill a runner while it computes a shard (its journal ends with `started`), after a few shards are done.
    let victim: RunnerProcess | undefined
    await waitFor(
      "a runner in the middle of a shard",
      () => {
        if (storedBy().length < 2) return false
        victim = runners.find((r) => readJournal(r.journal).at(-1)?.event === "started")
        return victim !== undefined
      },
      60_000
    )
    await victim!.kill()
    const orphan = readJournal(victim!.journal).at(-1)!
    expect(orphan.event).toBe("started")
    const clustered = await run
    expect(sameVectors(clustered, reference)).toBe(true)
    expectEachShardStoredOnce(writes)
    // The shard it was computing was computed again by a survivor.
    const redone = storedBy().find((l) => l.key === orphan.key)!
    expect(redone.runner).not.toBe(orphan.runner)
    console.log(`killed ${orphan.runner} in ${orphan.shard}; ${redone.runner} stored it; ${runners.map((r) => readJournal(r.journal).filter((l) => l.event === "stored").length).join(" + ")} shards`)
  })

  it("resumes after PostgreSQL restarts mid-run, same output", async () => {
    const { url, shared } = await cluster()
    const { store, writes } = countingStore(shared)
    const run = runGraph(store, N, ROUNDS, { url })
    await waitFor("a few shards stored", () => storedBy().length >= 3, 60_000)
    const before = storedBy().length
    const restartedAt = new Date().toISOString()
    await restartPostgres(inject("pgDir"), 2000)
    console.log(`PostgreSQL down for 2 s after ${before} of ${SHARDS.length} shards`)
    expect(before).toBeLessThan(SHARDS.length)
    const clustered = await run
    expect(sameVectors(clustered, reference)).toBe(true)
    expectEachShardStoredOnce(writes)
    expect(storedBy().filter((l) => l.time > restartedAt).length).toBeGreaterThan(0)
    const count = (event: string) => journals().filter((l) => l.event === event).length
    console.log(`after the restart: ${count("interrupted")} shards interrupted and redelivered, ${count("cached")} answered from the store`)
  })
})
