import * as fs from "node:fs/promises"
import * as path from "node:path"
import { beforeEach, describe, expect, it } from "vitest"
import type { RunEvent } from "../src/index.js"
import { calls, failures, intervals, resetCalls, runGraph, tempDir } from "./fixtures.js"

const chain = (n: number) => ({
  name: "chain",
  seed: 7,
  nodes: [
    { id: "nums", stage: "test/range", params: { n } },
    { id: "sq", stage: "test/square", inputs: { values: "nums.values" } },
    { id: "total", stage: "test/sum", inputs: { values: "sq.values" } }
  ]
})

beforeEach(() => {
  resetCalls()
  failures.square = false
})

describe("Runner", () => {
  it("computes a chain and stores each node's outputs", async () => {
    const root = await tempDir()
    const result = await runGraph(chain(4), root)
    expect(result.nodes.total!.outputs.total).toEqual([0 + 1 + 4 + 9])
    expect(calls).toEqual({ range: 1, square: 1, sum: 1 })
    const manifest = JSON.parse(await fs.readFile(path.join(result.nodes.sq!.dir, "manifest.json"), "utf8"))
    expect(manifest).toMatchObject({ stage: "test/square", nodeId: "sq" })
    const log = (await fs.readFile(path.join(result.runDir, "run.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as RunEvent)
    expect(log[0]!.type).toBe("run-started")
    expect(log.at(-1)).toMatchObject({ type: "run-finished", ok: true, computed: 3, cached: 0 })
  })

  it("hits the cache on a re-run and misses it when a param changes", async () => {
    const root = await tempDir()
    await runGraph(chain(4), root)
    resetCalls()
    const again = await runGraph(chain(4), root)
    expect(calls).toEqual({})
    expect(Object.values(again.nodes).every((n) => n.cached)).toBe(true)
    expect(again.nodes.total!.outputs.total).toEqual([14])

    const changed = await runGraph(chain(5), root)
    expect(calls).toEqual({ range: 1, square: 1, sum: 1 })
    expect(changed.nodes.total!.outputs.total).toEqual([30])

    // Only the changed node and what depends on it recompute.
    resetCalls()
    const g = chain(5)
    ;(g.nodes[2] as { params?: unknown }).params = { scale: 2 }
    const scaled = await runGraph(g, root)
    expect(calls).toEqual({ sum: 1 })
    expect(scaled.nodes.total!.outputs.total).toEqual([60])
  })

  it("resumes after a failure in the middle node without recomputing the first", async () => {
    const root = await tempDir()
    failures.square = true
    await expect(runGraph(chain(3), root)).rejects.toThrow(/node 'sq'.*injected failure[\s\S]*node 'total' \(skipped\)/)
    expect(calls).toEqual({ range: 1, square: 1 })

    resetCalls()
    failures.square = false
    const resumed = await runGraph(chain(3), root)
    expect(calls).toEqual({ square: 1, sum: 1 })
    expect(resumed.nodes.nums!.cached).toBe(true)
    expect(resumed.nodes.total!.outputs.total).toEqual([5])
  })

  it("leaves no partial entry when a stage fails", async () => {
    const root = await tempDir()
    failures.square = true
    await expect(runGraph(chain(3), root)).rejects.toThrow()
    const entries = await fs.readdir(path.join(root, "cache"), { recursive: true })
    expect(entries.filter((e) => e.endsWith("manifest.json"))).toHaveLength(1)
    expect(entries.some((e) => e.includes(".tmp-"))).toBe(false)
  })

  it("runs independent nodes concurrently", async () => {
    const root = await tempDir()
    intervals.length = 0
    const t0 = performance.now()
    await runGraph(
      {
        name: "parallel",
        nodes: [
          { id: "a", stage: "test/sleep", params: { ms: 300 } },
          { id: "b", stage: "test/sleep", params: { ms: 300 } },
          { id: "c", stage: "test/sleep", params: { ms: 300 } }
        ]
      },
      root
    )
    const elapsed = performance.now() - t0
    expect(intervals).toHaveLength(3)
    const latestStart = Math.max(...intervals.map((i) => i.start))
    const earliestEnd = Math.min(...intervals.map((i) => i.end))
    expect(latestStart).toBeLessThan(earliestEnd) // all three were running at the same moment
    expect(elapsed).toBeLessThan(800)
  })

  it("gives each node its own seed derived from the run seed", async () => {
    const root = await tempDir()
    const g = (seed: number) => ({ name: "seeds", seed, nodes: [{ id: "a", stage: "test/sleep", params: { ms: 1 } }, { id: "b", stage: "test/sleep", params: { ms: 1 } }] })
    const r1 = await runGraph(g(1), root)
    const r2 = await runGraph(g(2), root)
    expect(r1.nodes.a!.outputs.values).not.toEqual(r1.nodes.b!.outputs.values)
    expect(r1.nodes.a!.outputs.values).not.toEqual(r2.nodes.a!.outputs.values)
    expect(r2.nodes.a!.cached).toBe(false)
  })

  it("feeds a fan-in input the listed outputs in order", async () => {
    const root = await tempDir()
    const graph = {
      name: "fan-in",
      nodes: [
        { id: "a", stage: "test/range", params: { n: 2 } },
        { id: "b", stage: "test/range", params: { n: 3 } },
        { id: "c", stage: "test/concat", inputs: { parts: ["b.values", "a.values", "b.values"] } }
      ]
    }
    const result = await runGraph(graph, root)
    expect(result.nodes.c!.outputs.values).toEqual([0, 1, 2, 0, 1, 0, 1, 2])
    // The order of the list is part of the cache key.
    const swapped = await runGraph({ ...graph, nodes: [...graph.nodes.slice(0, 2), { id: "c", stage: "test/concat", inputs: { parts: ["a.values", "b.values"] } }] }, root)
    expect(swapped.nodes.c!.cached).toBe(false)
    expect(swapped.nodes.c!.outputs.values).toEqual([0, 1, 0, 1, 2])
  })

  it("moves folder outputs into the store entry and passes them on from there", async () => {
    const root = await tempDir()
    const result = await runGraph({ name: "folder", nodes: [{ id: "f", stage: "test/folder", params: { content: "hello" } }] }, root)
    const files = result.nodes.f!.outputs.files as { path: string }
    expect(files.path.startsWith(result.nodes.f!.dir)).toBe(true)
    expect(await fs.readFile(path.join(files.path, "a.txt"), "utf8")).toBe("hello")
    expect(result.nodes.f!.outputs.values).toEqual([5])
    expect(await fs.readdir(path.join(root, "scratch"))).toEqual([]) // the attempt's scratch folder is gone
    const again = await runGraph({ name: "folder", nodes: [{ id: "f", stage: "test/folder", params: { content: "hello" } }] }, root)
    expect(again.nodes.f!.outputs.files).toEqual(files)
  })

  it("reports progress events with rate and ETA", async () => {
    const root = await tempDir()
    const events: Array<RunEvent> = []
    await runGraph(chain(3), root, { listeners: [(e) => events.push(e)] })
    const p = events.find((e) => e.type === "node-progress")
    expect(p).toMatchObject({ nodeId: "nums", done: 3, total: 3, unit: "numbers", etaSeconds: 0 })
  })
})
