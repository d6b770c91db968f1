import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { countingStore, readJournal, removePostgres, type RunnerProcess, runGraph, sameVectors, startPostgres, startRunner, tempDir, waitForCluster } from "./helpers.js"
import { makeNetwork, type Network, unavailable, vethBytes } from "./netns.js"

const reason = unavailable()
if (reason) console.log(`network-namespace test skipped: ${reason}`)

// 24 shards, so that the hash ring gives every runner some (all on one runner: (1/3)^23).
const N = 192
const ROUNDS = 100_000

describe.skipIf(reason !== undefined)("runners in separate network namespaces", () => {
  let network: Network | undefined
  let runners: Array<RunnerProcess> = []
  const pgDir = path.join("/tmp", `embedflow-pg-netns-${process.pid}`)
  const dir = tempDir()

  afterAll(async () => {
    await Promise.all(runners.map((r) => r.kill()))
    await removePostgres(pgDir).catch(() => undefined)
    network?.remove()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("compute the same output, talking to PostgreSQL, the run and each other over veth links", async () => {
    network = makeNetwork(3)
    const reference = await runGraph(countingStore(path.join(dir, "local")).store, N, ROUNDS)
    const localUrl = await startPostgres(pgDir, `127.0.0.1,${network.hostAddress}`, network.subnet)
    const bridgeUrl = localUrl.replace("127.0.0.1", network.hostAddress)
    const shared = path.join(dir, "shared")
    const before = network.namespaces.map((n) => vethBytes(n.hostVeth))
    runners = await Promise.all(
      network.namespaces.map((n) => startRunner({ url: bridgeUrl, store: shared, dir, host: n.address, prefix: ["ip", "netns", "exec", n.name] }))
    )
    await waitForCluster(localUrl, 3)
    const { store } = countingStore(shared)
    const clustered = await runGraph(store, N, ROUNDS, { url: bridgeUrl })
    expect(sameVectors(clustered, reference)).toBe(true)
    const stored = runners.flatMap((r) => readJournal(r.journal)).filter((l) => l.event === "stored")
    expect(stored.map((l) => l.shard).sort()).toEqual(Array.from({ length: N / 8 }, (_, i) => `embed#${i}`).sort())
    // Runners worked from their own addresses (at least two of them), and every runner's link carried traffic.
    const workers = new Set(stored.map((l) => l.runner.split(":")[0]!))
    expect([...workers].every((a) => network!.namespaces.some((n) => n.address === a))).toBe(true)
    expect(workers.size).toBeGreaterThanOrEqual(2)
    const crossed = network.namespaces.map((n, i) => vethBytes(n.hostVeth) - before[i]!)
    console.log(`bytes over each runner's veth: ${crossed.join(", ")}`)
    for (const bytes of crossed) expect(bytes).toBeGreaterThan(10_000)
  })
})
