import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { ArtifactStore, Graph, makeFileSystem, Plugin, type RunEvent, type RunEventListener, Runner } from "@embedflow/core"
import { Cause, Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { plugin } from "../src/index.js"

const fixtures = fileURLToPath(new URL("./fixtures/user/", import.meta.url))
const registry = new Plugin.Registry([plugin])

const runGraph = async (nodes: ReadonlyArray<Record<string, unknown>>, listeners: ReadonlyArray<RunEventListener> = []) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-load-stage-"))
  return Effect.runPromiseExit(
    Effect.gen(function* () {
      const graph = yield* Graph.validate({ name: "load", nodes } as never, registry)
      return yield* Runner.run(graph, { listeners })
    }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(root)))
  )
}

describe("data/load-* stages", () => {
  it("load-triples and load-beir produce typed outputs and a report", async () => {
    const exit = await runGraph([
      { id: "triples", stage: "data/load-triples", params: { path: path.join(fixtures, "flag.jsonl") } },
      { id: "beir", stage: "data/load-beir", params: { path: path.join(fixtures, "beir") } },
      { id: "bad", stage: "data/load-labelled", params: { path: path.join(fixtures, "malformed/bad-json.jsonl"), onError: "skip" } }
    ])
    if (!Exit.isSuccess(exit)) throw new Error(Cause.pretty(exit.cause))
    const nodes = exit.value.nodes
    expect(nodes.triples!.outputs.triples).toHaveLength(4)
    expect((nodes.triples!.outputs.report as { rows: number }).rows).toBe(2)
    expect(nodes.beir!.outputs.queries).toEqual([
      { id: "q1", text: "what is a cat" },
      { id: "q2", text: "capital of france" }
    ])
    expect(nodes.bad!.outputs.examples).toHaveLength(3)
    expect((nodes.bad!.outputs.report as { skipped: number }).skipped).toBe(4)
    // Generated ids carry the node id, so two loaders' ids never collide.
    expect((nodes.bad!.outputs.examples as Array<{ id: string }>).map((e) => e.id)).toEqual(["bad-0", "bad-1", "bad-2"])
  })

  it("reports progress in bytes of the file while reading", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-load-progress-"))
    const file = path.join(dir, "rows.jsonl")
    await fs.writeFile(file, Array.from({ length: 20000 }, (_, i) => JSON.stringify({ text: `row number ${i}` })).join("\n"))
    const events: Array<RunEvent> = []
    const exit = await runGraph([{ id: "rows", stage: "data/load-texts", params: { path: file } }], [(e) => events.push(e)])
    expect(Exit.isSuccess(exit)).toBe(true)
    const progress = events.filter((e): e is Extract<RunEvent, { type: "node-progress" }> => e.type === "node-progress")
    expect(progress.length).toBeGreaterThan(0)
    const size = (await fs.stat(file)).size
    expect(progress.every((p) => p.unit === "bytes" && p.total === size && p.done <= size)).toBe(true)
  })

  it("a malformed row fails the node with file:line", async () => {
    const exit = await runGraph([{ id: "strict", stage: "data/load-labelled", params: { path: path.join(fixtures, "malformed/bad-json.jsonl") } }])
    expect(Exit.isFailure(exit)).toBe(true)
    if (Exit.isFailure(exit)) expect(Cause.pretty(exit.cause)).toMatch(/strict: .*bad-json\.jsonl:2:\d+: invalid JSON/)
  })
})

describe("capPerLabel", () => {
  it("keeps at most n a label, all of a rarer label, file order, seeded", async () => {
    const { capPerLabel } = await import("../src/TaskSets.js")
    const ex = Array.from({ length: 100 }, (_, i) => ({ id: `${i}`, label: i < 90 ? "big" : "small" }))
    const a = capPerLabel(ex, 20, 5)
    expect(a.filter((e) => e.label === "big")).toHaveLength(20)
    expect(a.filter((e) => e.label === "small")).toHaveLength(10)
    expect(a.map((e) => Number(e.id))).toEqual([...a.map((e) => Number(e.id))].sort((x, y) => x - y))
    expect(capPerLabel(ex, 20, 5)).toEqual(a)
    expect(capPerLabel(ex, 20, 6)).not.toEqual(a)
  })
})
