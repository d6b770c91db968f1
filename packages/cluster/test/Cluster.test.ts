import * as path from "node:path"
import { afterEach, describe, expect, inject, it } from "vitest"
import { countingStore, freshDatabase, readJournal, type RunnerProcess, runGraph, sameVectors, startRunner, tempDir, waitForCluster } from "./helpers.js"

const N = 96
const ROUNDS = 200_000
let runners: Array<RunnerProcess> = []

afterEach(async () => {
  await Promise.all(runners.map((r) => r.kill()))
  runners = []
})

describe("a sharded graph on three runner processes", () => {
  it("equals the in-process output, each shard computed and stored once, by a runner", async () => {
    const dir = tempDir()
    let t0 = performance.now()
    const reference = await runGraph(countingStore(path.join(dir, "local")).store, N, ROUNDS)
    console.log(`in-process run: ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    const url = freshDatabase(inject("pgUrl"))
    const shared = path.join(dir, "shared")
    runners = await Promise.all([0, 1, 2].map(() => startRunner({ url, store: shared, dir })))
    await waitForCluster(url, 3)
    const { store, writes } = countingStore(shared)
    t0 = performance.now()
    const clustered = await runGraph(store, N, ROUNDS, { url })
    console.log(`cluster run: ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    expect(sameVectors(clustered, reference)).toBe(true)
    const lines = runners.flatMap((r) => readJournal(r.journal))
    const stored = lines.filter((l) => l.event === "stored").map((l) => l.shard)
    expect(stored.sort()).toEqual(Array.from({ length: N / 8 }, (_, i) => `embed#${i}`).sort())
    // The run itself wrote no shard entry: the runners did.
    expect(writes.filter((w) => /^embed#\d+$/.test(w))).toEqual([])
    console.log(runners.map((r) => `${r.port}: ${readJournal(r.journal).filter((l) => l.event === "stored").length} shards`).join(", "))
  })
})
