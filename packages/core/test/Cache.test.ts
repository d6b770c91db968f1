import { spawnSync } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Schema } from "effect"
import { beforeEach, describe, expect, it } from "vitest"
import {
  ArtifactStore,
  Graph,
  makeFileSystem,
  Params,
  Plan,
  Plugin,
  Ports,
  PortType,
  type RunEvent,
  Runner,
  Stage,
  StageContext
} from "../src/index.js"
import { tempDir } from "./fixtures.js"

/** How often each stage ran, and a value tests change to tell a fresh computation from a stale entry. */
const calls: Record<string, number> = {}
const count = (name: string) => (calls[name] = (calls[name] ?? 0) + 1)
const world = { generation: 1 }

const Numbers = PortType.json("Numbers", Schema.Array(Schema.Number))

const readFolder = Stage.make({
  name: "cache/read-folder",
  version: "1",
  description: "the concatenated content of a model-like folder",
  params: Schema.Struct({ model: Params.folderPath() }),
  inputs: {},
  outputs: { texts: Ports.Texts },
  run: (params) =>
    Effect.gen(function* () {
      count("read-folder")
      const dir = (yield* StageContext).resolvePath(params.model)
      const text = yield* Effect.promise(async () => {
        const names = (await fs.readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name).sort()
        return (await Promise.all(names.map((n) => fs.readFile(path.join(dir, n), "utf8")))).join("|")
      })
      return { texts: [{ id: "content", text }] }
    })
})

const readFile = Stage.make({
  name: "cache/read-file",
  version: "1",
  description: "a data file's lines",
  params: Schema.Struct({ file: Params.filePath() }),
  inputs: {},
  outputs: { texts: Ports.Texts },
  run: (params) =>
    Effect.gen(function* () {
      count("read-file")
      const file = (yield* StageContext).resolvePath(params.file)
      const text = yield* Effect.promise(() => fs.readFile(file, "utf8"))
      return { texts: text.split("\n").filter(Boolean).map((t, i) => ({ id: `l${i}`, text: t })) }
    })
})

/** Undeclared reads under a root, as a data stage reading the data root declares them. */
const readRoot = Stage.make({
  name: "cache/read-root",
  version: "1",
  description: "a file under a root folder, declared with `reads`",
  params: Schema.Struct({ root: Schema.String }),
  inputs: {},
  outputs: { texts: Ports.Texts },
  reads: (params) => Effect.succeed([path.join(params.root, "set")]),
  run: (params) =>
    Effect.gen(function* () {
      count("read-root")
      const text = yield* Effect.promise(() => fs.readFile(path.join(params.root, "set", "rows.txt"), "utf8"))
      return { texts: [{ id: "rows", text }] }
    })
})

const lines = Stage.make({
  name: "cache/lines",
  version: "1",
  description: "n text records (a .jsonl entry)",
  params: Schema.Struct({ n: Schema.Int }),
  inputs: {},
  outputs: { texts: Ports.Texts },
  run: (params) =>
    Effect.sync(() => {
      count("lines")
      return { texts: Array.from({ length: params.n }, (_, i) => ({ id: `t${i}`, text: `text ${i} gen ${world.generation}` })) }
    })
})

const vectors = Stage.make({
  name: "cache/vectors",
  version: "1",
  description: "rows × 4 float32 vectors (a .f32 entry)",
  params: Schema.Struct({ rows: Schema.Int }),
  inputs: {},
  outputs: { embeddings: Ports.Embeddings },
  run: (params) =>
    Effect.sync(() => {
      count("vectors")
      const data = Float32Array.from({ length: params.rows * 4 }, (_, i) => i + 0.5)
      return { embeddings: { dim: 4, count: params.rows, data, ids: Array.from({ length: params.rows }, (_, i) => `r${i}`) } }
    })
})

const sumRows = Stage.make({
  name: "cache/first-row",
  version: "1",
  description: "the first row of the vectors (reads them downstream)",
  params: Schema.Struct({}),
  inputs: { embeddings: Ports.Embeddings },
  outputs: { values: Numbers },
  run: (_p, inputs) => Effect.succeed({ values: Array.from(inputs.embeddings.data.subarray(0, inputs.embeddings.dim)) })
})

/** A report with an optional metric left undefined, like contrastive-trainer's without a dev set. */
const report = Stage.make({
  name: "cache/report",
  version: "1",
  description: "a report with an undefined field",
  params: Schema.Struct({}),
  inputs: {},
  outputs: { report: Ports.Report },
  run: () => Effect.succeed({ report: { trained: true, devSpearman: undefined, nested: { a: 1, b: undefined } } })
})

const registry = new Plugin.Registry([
  Plugin.make({ name: "cache", version: "1", description: "cache tests", stages: [readFolder, readFile, readRoot, lines, vectors, sumRows, report] })
])

const run = (raw: unknown, root: string, baseDir: string, options: Runner.RunOptions = {}) => {
  const events: Array<RunEvent> = []
  return Effect.runPromise(
    Effect.gen(function* () {
      const graph = yield* Graph.validate(raw, registry, { baseDir })
      const result = yield* Runner.run(graph, { ...options, listeners: [(e) => events.push(e)] })
      return { result, events }
    }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(root)))
  )
}

const logs = (events: ReadonlyArray<RunEvent>) => events.flatMap((e) => (e.type === "node-log" || e.type === "node-warning" ? [e.message] : []))

const graph = (nodes: Array<unknown>, name = "cache") => ({ name, nodes })

beforeEach(() => {
  for (const k of Object.keys(calls)) delete calls[k]
  world.generation = 1
})

describe("content-addressed inputs", () => {
  it("recomputes when a model folder's file is replaced in place (same size), and --force replaces the entry", async () => {
    const [root, base] = [await tempDir(), await tempDir()]
    await fs.mkdir(path.join(base, "model/onnx"), { recursive: true })
    await fs.writeFile(path.join(base, "model/config.json"), "cfg")
    await fs.writeFile(path.join(base, "model/weights.bin"), "AAAA")
    const g = graph([{ id: "enc", stage: "cache/read-folder", params: { model: "./model" } }])
    const first = await run(g, root, base)
    expect((first.result.nodes.enc!.outputs.texts as Array<{ text: string }>)[0]!.text).toBe("cfg|AAAA")

    await fs.writeFile(path.join(base, "model/weights.bin"), "BBBB") // same size, new content
    const second = await run(g, root, base)
    expect(second.result.nodes.enc!.cached).toBe(false)
    expect((second.result.nodes.enc!.outputs.texts as Array<{ text: string }>)[0]!.text).toBe("cfg|BBBB")
    expect(second.result.nodes.enc!.key).not.toBe(first.result.nodes.enc!.key)
    expect(calls["read-folder"]).toBe(2)

    // A new file in the folder changes the key too.
    await fs.writeFile(path.join(base, "model/onnx/extra.onnx"), "x")
    expect((await run(g, root, base)).result.nodes.enc!.cached).toBe(false)
  })

  it("keys a data file by content and a root-relative data set declared with `reads`", async () => {
    const [root, base] = [await tempDir(), await tempDir()]
    await fs.writeFile(path.join(base, "data.txt"), "a\nb\n")
    await fs.mkdir(path.join(base, "set"))
    await fs.writeFile(path.join(base, "set/rows.txt"), "1,2")
    const g = graph([
      { id: "file", stage: "cache/read-file", params: { file: "data.txt" } },
      { id: "rootset", stage: "cache/read-root", params: { root: base } }
    ])
    await run(g, root, base)
    const cached = await run(g, root, base)
    expect(cached.result.nodes.file!.cached && cached.result.nodes.rootset!.cached).toBe(true)
    await fs.writeFile(path.join(base, "data.txt"), "a\nc\n")
    await fs.writeFile(path.join(base, "set/rows.txt"), "1,3")
    const changed = await run(g, root, base)
    expect(changed.result.nodes.file!.cached).toBe(false)
    expect(changed.result.nodes.rootset!.cached).toBe(false)
    expect((changed.result.nodes.rootset!.outputs.texts as Array<{ text: string }>)[0]!.text).toBe("1,3")
  })

  it("hashes a file once: the memo (path, size, mtime, inode) serves later plans until the file changes", async () => {
    const [root, base] = [await tempDir(), await tempDir()]
    await fs.writeFile(path.join(base, "data.txt"), "a\n")
    const g = graph([{ id: "file", stage: "cache/read-file", params: { file: "data.txt" } }])
    const plan = async () =>
      Effect.runPromise(
        Effect.gen(function* () {
          return yield* Plan.make(yield* Graph.validate(g, registry, { baseDir: base }))
        }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(root)))
      )
    const first = await plan()
    const real = first.nodes[0]!.ingredients!.reads[0]!.sha256
    // Forge the on-disk memo: a fresh store object (no in-memory memo) must trust it while the stat matches...
    const memoDir = path.join(root, "hashes")
    const [memoFile] = await fs.readdir(memoDir)
    const memo = JSON.parse(await fs.readFile(path.join(memoDir, memoFile!), "utf8"))
    await fs.writeFile(path.join(memoDir, memoFile!), JSON.stringify({ ...memo, sha256: "f".repeat(64) }))
    expect((await plan()).nodes[0]!.ingredients!.reads[0]!.sha256).toBe("f".repeat(64))
    // ...and re-hash once the file changes.
    await fs.writeFile(path.join(base, "data.txt"), "a\n")
    expect((await plan()).nodes[0]!.ingredients!.reads[0]!.sha256).toBe(real)
    expect(Plan.explain(first, "file")).toContain(`reads file ${path.join(base, "data.txt")}: sha256 ${real}`)
  })
})

/** The single entry folder of a node in a finished run. */
const entryOf = (result: Runner.RunResult, id: string) => result.nodes[id]!.dir

describe("verified entries", () => {
  it("detects a .jsonl truncated at a line boundary, quarantines it, and replaces it", async () => {
    const [root, base] = [await tempDir(), await tempDir()]
    const g = graph([{ id: "pairs", stage: "cache/lines", params: { n: 40 } }])
    const first = await run(g, root, base)
    const file = path.join(entryOf(first.result, "pairs"), "texts.jsonl")
    const text = await fs.readFile(file, "utf8")
    await fs.writeFile(file, text.split("\n").slice(0, 20).join("\n") + "\n")
    const second = await run(g, root, base)
    expect(second.result.nodes.pairs!.cached).toBe(false)
    expect(second.result.nodes.pairs!.outputs.texts as Array<unknown>).toHaveLength(40)
    expect(logs(second.events).join("\n")).toMatch(
      new RegExp(`node pairs: cached entry ${first.result.nodes.pairs!.key} corrupt \\(file texts\\.jsonl: \\d+ bytes, manifest says \\d+\\), recomputing`)
    )
    expect(await fs.readdir(path.join(root, "quarantine"))).toHaveLength(1)
    const third = await run(g, root, base)
    expect(third.result.nodes.pairs!.cached).toBe(true)
    expect(calls.lines).toBe(2)
  })

  it("detects rows of a .f32 permuted in place (same size) by its sha256", async () => {
    const [root, base] = [await tempDir(), await tempDir()]
    const g = graph([
      { id: "emb", stage: "cache/vectors", params: { rows: 8 } },
      { id: "first", stage: "cache/first-row", inputs: { embeddings: "emb.embeddings" } }
    ])
    const first = await run(g, root, base)
    const file = path.join(entryOf(first.result, "emb"), "embeddings.f32")
    const bytes = await fs.readFile(file)
    const rowBytes = 16
    const swapped = Buffer.concat([bytes.subarray(rowBytes, 2 * rowBytes), bytes.subarray(0, rowBytes), bytes.subarray(2 * rowBytes)])
    await fs.writeFile(file, swapped)
    // A new process has not verified the entry yet: a fresh store object stands in for it.
    const second = await run(g, root, base)
    expect(logs(second.events).join("\n")).toMatch(/node emb: cached entry \w+ corrupt \(file embeddings\.f32: sha256 /)
    expect(second.result.nodes.emb!.cached).toBe(false)
    expect(second.result.nodes.first!.outputs.values).toEqual([0.5, 1.5, 2.5, 3.5])
  })

  it("replaces a .f32 truncated mid-row, so later runs are served from the cache again", async () => {
    const [root, base] = [await tempDir(), await tempDir()]
    const g = graph([{ id: "emb", stage: "cache/vectors", params: { rows: 8 } }])
    const first = await run(g, root, base)
    const file = path.join(entryOf(first.result, "emb"), "embeddings.f32")
    await fs.truncate(file, 8 * 16 - 6)
    await run(g, root, base)
    const third = await run(g, root, base)
    expect(third.result.nodes.emb!.cached).toBe(true)
    expect(calls.vectors).toBe(2)
    expect((await fs.stat(file)).size).toBe(8 * 16)
  })

  it("treats a deleted manifest as corrupt: recomputed once, cached after", async () => {
    const [root, base] = [await tempDir(), await tempDir()]
    const g = graph([{ id: "pairs", stage: "cache/lines", params: { n: 3 } }])
    const first = await run(g, root, base)
    await fs.rm(path.join(entryOf(first.result, "pairs"), "manifest.json"))
    const second = await run(g, root, base)
    expect(logs(second.events).join("\n")).toContain("(file manifest.json: missing), recomputing")
    expect((await run(g, root, base)).result.nodes.pairs!.cached).toBe(true)
    expect(calls.lines).toBe(2)
  })

  it("--force replaces the entry, so the next normal run serves the forced result", async () => {
    const [root, base] = [await tempDir(), await tempDir()]
    const g = graph([{ id: "pairs", stage: "cache/lines", params: { n: 2 } }])
    await run(g, root, base)
    world.generation = 2 // the stage now computes something else for the same key (a fixed bug, say)
    const forced = await run(g, root, base, { force: true })
    expect((forced.result.nodes.pairs!.outputs.texts as Array<{ text: string }>)[0]!.text).toBe("text 0 gen 2")
    const next = await run(g, root, base)
    expect(next.result.nodes.pairs!.cached).toBe(true)
    expect((next.result.nodes.pairs!.outputs.texts as Array<{ text: string }>)[0]!.text).toBe("text 0 gen 2")
  })

  it("stores a JSON report whose optional fields are undefined (omitted, as JSON would)", async () => {
    const [root, base] = [await tempDir(), await tempDir()]
    const g = graph([{ id: "r", stage: "cache/report" }])
    await run(g, root, base)
    const again = await run(g, root, base)
    expect(again.result.nodes.r!.cached).toBe(true)
    expect(again.result.nodes.r!.outputs.report).toEqual({ trained: true, nested: { a: 1 } })
  })
})

describe("concurrent runs on one store", () => {
  it("two runs computing the same keys at once both succeed and leave one entry per key", async () => {
    const [root, base] = [await tempDir(), await tempDir()]
    const g = graph(Array.from({ length: 12 }, (_, i) => ({ id: `v${i}`, stage: "cache/vectors", params: { rows: 200 + i } })))
    // Two store objects stand in for two processes; their writes interleave at every await.
    const [a, b] = await Promise.all([run(g, root, base), run(g, root, base)])
    for (let i = 0; i < 12; i++) expect(a.result.nodes[`v${i}`]!.key).toBe(b.result.nodes[`v${i}`]!.key)
    const shards = await fs.readdir(path.join(root, "cache"))
    const names = (await Promise.all(shards.map((s) => fs.readdir(path.join(root, "cache", s))))).flat()
    expect(names.filter((n) => !n.startsWith("."))).toHaveLength(12)
    expect(names.filter((n) => n.startsWith("."))).toEqual([])
  })
})

describe("run folders and crash hygiene", () => {
  it("keeps a run whose graph name tries to escape inside <store>/runs", async () => {
    const [root, base] = [await tempDir(), await tempDir()]
    const { result } = await run(graph([{ id: "r", stage: "cache/report" }], "../../../escaped-run"), root, base)
    expect(path.relative(path.join(root, "runs"), result.runDir).startsWith("..")).toBe(false)
    expect(await fs.readdir(path.dirname(root))).not.toContain("escaped-run")
    expect(await fs.readdir(root)).not.toContain("escaped-run")
  })

  it("removes temp entries and scratch folders of dead processes at the start of a run, and keeps live ones", async () => {
    const [root, base] = [await tempDir(), await tempDir()]
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid! // a pid that has exited
    const host = os.hostname().replace(/[^A-Za-z0-9.-]/g, "_")
    const deadTemp = path.join(root, "cache", "ab", `.ab12.tmp-@${host}~${dead}-0123abcd`)
    const liveTemp = path.join(root, "cache", "ab", `.ab34.tmp-@${host}~${process.pid}-0123abcd`)
    const deadScratch = path.join(root, "scratch", `ab12-@${host}~${dead}-1`)
    for (const d of [deadTemp, liveTemp, deadScratch]) {
      await fs.mkdir(d, { recursive: true })
      await fs.writeFile(path.join(d, "big.bin"), Buffer.alloc(1024))
    }
    await run(graph([{ id: "r", stage: "cache/report" }]), root, base)
    expect(await fs.readdir(path.join(root, "cache", "ab"))).toEqual([path.basename(liveTemp)])
    expect(await fs.readdir(path.join(root, "scratch"))).toEqual([])
  })

  it("remove deletes an entry at once, and removing a missing one is no error", async () => {
    const [root, base] = [await tempDir(), await tempDir()]
    const first = await run(graph([{ id: "v", stage: "cache/vectors", params: { rows: 5 } }]), root, base)
    const store = makeFileSystem(root)
    const key = first.result.nodes.v!.key
    expect(await Effect.runPromise(store.has(key))).toBe(true)
    await Effect.runPromise(store.remove(key))
    expect(await Effect.runPromise(store.has(key))).toBe(false)
    expect(await fs.readdir(path.dirname(store.entryDir(key)))).toEqual([])
    await Effect.runPromise(store.remove(key))
  })

  it("gc removes entries that no kept run references and reports the store size before and after", async () => {
    const [root, base] = [await tempDir(), await tempDir()]
    // The oldest run, but the only one of its graph: --keep-runs counts per graph, so it stays.
    const otherGraph = await run(graph([{ id: "w", stage: "cache/vectors", params: { rows: 7 } }], "other"), root, base)
    await new Promise((r) => setTimeout(r, 20))
    const old = await run(graph([{ id: "v", stage: "cache/vectors", params: { rows: 1000 } }]), root, base)
    await new Promise((r) => setTimeout(r, 20))
    const kept = await run(graph([{ id: "v", stage: "cache/vectors", params: { rows: 10 } }]), root, base)
    const store = makeFileSystem(root)
    await fs.writeFile(path.join(base, "gone.txt"), "x")
    await Effect.runPromise(store.hashPath(path.join(base, "gone.txt")))
    await fs.rm(path.join(base, "gone.txt"))
    const all = await Effect.runPromise(store.gc())
    expect(await fs.readdir(path.join(root, "hashes"))).toEqual([]) // the memo of a deleted file went too
    expect(all).toMatchObject({ runsKept: 3, runsRemoved: 0, entriesRemoved: 0, entriesKept: 3 })
    const report = await Effect.runPromise(store.gc({ keepRuns: 1 }))
    expect(report).toMatchObject({ runsKept: 2, runsRemoved: 1, entriesKept: 2, entriesRemoved: 1 })
    expect((await fs.stat(otherGraph.result.nodes.w!.dir)).isDirectory()).toBe(true)
    expect(report.bytesBefore - report.bytesAfter).toBeGreaterThanOrEqual(1000 * 16)
    await expect(fs.stat(old.result.nodes.v!.dir)).rejects.toThrow()
    expect((await fs.stat(kept.result.nodes.v!.dir)).isDirectory()).toBe(true)
  })
})
