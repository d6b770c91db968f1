import { spawnSync } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { ArtifactStore, Graph, makeFileSystem, Plugin, type RunEvent, Runner, StageExecutor, type Vectors } from "@embedflow/core"
import { Cause, Effect, Exit, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { WorkerPool } from "../src/index.js"
import { plugin } from "./fixtures/poolPlugin.js"

const pluginUrl = new URL("./fixtures/poolPlugin.ts", import.meta.url).href
Plugin.recordModule(plugin, pluginUrl)
const registry = new Plugin.Registry([plugin])

const tempDir = () => fs.mkdtemp(path.join(os.tmpdir(), "embedflow-threads-"))

type Spec = { name: string; seed: number; nodes: Array<{ id: string; stage: string; params?: Record<string, unknown>; inputs?: Record<string, string> }> }

const runGraph = (spec: Spec, executor: StageExecutor["Service"] | undefined, options: Runner.RunOptions = {}) =>
  Effect.gen(function* () {
    const graph = yield* Graph.validate(spec, registry)
    return yield* Runner.run(graph, options)
  }).pipe(
    Effect.provideService(ArtifactStore, makeFileSystem(storeRoot)),
    executor ? Effect.provideService(StageExecutor, executor) : (e) => e
  )

const inStore = async <A, E>(effect: Effect.Effect<A, E, ArtifactStore>) =>
  Effect.runPromise(Effect.provideService(effect, ArtifactStore, makeFileSystem(await tempDir())))

/** One pool for the tests that share it; closed in afterAll (and checked to stop its threads in its own test). */
let scope: Scope.Closeable
let storeRoot: string
let pool: StageExecutor["Service"]
beforeAll(async () => {
  storeRoot = await tempDir()
  scope = Effect.runSync(Scope.make())
  pool = await Effect.runPromise(WorkerPool.make({ size: 2 }).pipe(Scope.provide(scope)))
})
afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))

const embedGraph = (n: number): Spec => ({
  name: "pool-embed",
  seed: 7,
  nodes: [
    { id: "src", stage: "pool/source", params: { n } },
    { id: "embed", stage: "pool/embed", params: { rounds: 50 }, inputs: { texts: "src.texts" } }
  ]
})

const embedded = async (executor: StageExecutor["Service"] | undefined, options: Runner.RunOptions = {}) => {
  const events: Array<RunEvent> = []
  const result = await inStore(
    Effect.gen(function* () {
      const graph = yield* Graph.validate(embedGraph(23), registry)
      return yield* Runner.run(graph, { ...options, listeners: [(e) => events.push(e)] })
    }).pipe(executor ? Effect.provideService(StageExecutor, executor) : (e) => e)
  )
  const outputs = result.nodes.embed!.outputs as { vectors: Vectors; texts: ReadonlyArray<{ id: string; text: string }> }
  return { outputs, events }
}

const bytes = (v: Vectors) => Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength)

describe("WorkerPool", () => {
  it("gives the in-process output, bit for bit, for whole nodes and for shards", async () => {
    const reference = await embedded(undefined, { shardItems: 1000 })
    const whole = await embedded(pool, { shardItems: 1000 })
    const sharded = await embedded(pool, { shardItems: 3 })
    for (const other of [whole, sharded]) {
      expect(other.outputs.texts).toEqual(reference.outputs.texts)
      expect(other.outputs.vectors.ids).toEqual(reference.outputs.vectors.ids)
      expect(other.outputs.vectors.data).toBeInstanceOf(Float32Array)
      expect(bytes(other.outputs.vectors).equals(bytes(reference.outputs.vectors))).toBe(true)
    }
    expect(reference.outputs.vectors.count).toBe(23)
    // The shards ran on the pool, and events came back from the worker threads.
    const log = sharded.events.find((e) => e.type === "node-log" && e.nodeId === "embed")
    expect(log && "message" in log ? log.message : "").toBe("8 shards of 23 items on worker threads ×2")
    expect(whole.events.some((e) => e.type === "node-progress" && e.nodeId === "embed" && e.done === 23)).toBe(true)
  })

  it("runs two independent CPU-bound nodes at the same time on two threads", async () => {
    const result = await Effect.runPromise(
      runGraph(
        {
          name: "pool-overlap",
          seed: 1,
          nodes: [
            { id: "a", stage: "pool/spin", params: { ms: 700, tag: `a${Date.now()}` } },
            { id: "b", stage: "pool/spin", params: { ms: 700, tag: `b${Date.now()}` } }
          ]
        },
        pool,
        { force: true }
      )
    )
    const a = result.nodes.a!.outputs.span as { start: number; end: number; threadId: number }
    const b = result.nodes.b!.outputs.span as { start: number; end: number; threadId: number }
    expect(a.threadId).not.toBe(b.threadId)
    expect([a.threadId, b.threadId]).not.toContain(0)
    const overlap = Math.min(a.end, b.end) - Math.max(a.start, b.start)
    expect(overlap).toBeGreaterThan(350)
  })

  it("fails the node of a failing stage with the stage's message; other nodes finish", async () => {
    const exit = await Effect.runPromiseExit(
      runGraph(
        {
          name: "pool-fail",
          seed: 1,
          nodes: [
            { id: "bad", stage: "pool/fail" },
            { id: "good", stage: "pool/spin", params: { ms: 10, tag: `g${Date.now()}` } }
          ]
        },
        pool
      )
    )
    expect(Exit.isFailure(exit)).toBe(true)
    const error = Exit.isFailure(exit) ? (exit.cause.reasons[0] as { error: Runner.RunFailedError }).error : undefined
    expect(error?.failures).toEqual([{ nodeId: "bad", message: "the fixture stage failed on purpose", skipped: false }])
  })

  it("fails the task of a thread that exits, replaces the thread, and keeps serving", async () => {
    const exit = await Effect.runPromiseExit(
      runGraph({ name: "pool-crash", seed: 1, nodes: [{ id: "boom", stage: "pool/exit", params: { code: 3 } }] }, pool, { force: true })
    )
    const error = Exit.isFailure(exit) ? (exit.cause.reasons[0] as { error: Runner.RunFailedError }).error : undefined
    expect(error?.failures.map((f) => f.nodeId)).toEqual(["boom"])
    expect(error?.failures[0]!.message).toMatch(/worker thread running node 'boom' died \(.*exited with code: 3\); the pool replaced it/)
    // Both threads still serve (the dead one was replaced): two overlapping nodes succeed.
    const after = await Effect.runPromise(
      runGraph(
        {
          name: "pool-after-crash",
          seed: 1,
          nodes: [
            { id: "a", stage: "pool/spin", params: { ms: 300, tag: "a" } },
            { id: "b", stage: "pool/spin", params: { ms: 300, tag: "b" } }
          ]
        },
        pool,
        { force: true }
      )
    )
    expect(Object.keys(after.nodes).sort()).toEqual(["a", "b"])
  })

  it("fails, not hangs or respawns forever, when its threads cannot start", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.scoped(
        Effect.gen(function* () {
          const broken = yield* WorkerPool.make({ size: 1, execArgv: ["--no-such-node-option"] })
          return yield* runGraph(embedGraph(5), broken, { force: true })
        })
      ).pipe(Effect.timeout(20_000))
    )
    expect(exit._tag).toBe("Failure")
    expect(String(exit._tag === "Failure" ? Cause.squash(exit.cause) : "")).toMatch(/worker thread 0 could not start: .*no-such-node-option/)
  })

  it("fails, not hangs, on outputs or inputs that cannot be structured-cloned", async () => {
    const exit = await Effect.runPromiseExit(runGraph({ name: "pool-clone", seed: 1, nodes: [{ id: "fn", stage: "pool/uncloneable" }] }, pool, { force: true }))
    const error = Exit.isFailure(exit) ? (exit.cause.reasons[0] as { error: Runner.RunFailedError }).error : undefined
    expect(error?.failures[0]!.message).toMatch(/^the outputs of node 'fn' cannot be sent back from the worker thread: .*could not be cloned/)
    const task = {
      nodeId: "direct",
      stage: "pool/source",
      module: pluginUrl,
      params: { n: 1 },
      seed: 1,
      baseDir: os.tmpdir(),
      scratchDir: os.tmpdir(),
      key: "k",
      shard: undefined,
      inputs: { texts: [{ id: "a", text: "b", f: () => 1 }] }
    }
    const sent = await Effect.runPromiseExit(pool.execute(task, () => Effect.void))
    expect(Exit.isFailure(sent) && String((sent.cause.reasons[0] as { error: Error }).error.message)).toMatch(
      /^the inputs of node 'direct' cannot be sent to a worker thread: .*could not be cloned/
    )
  })

  it("stops the thread of an interrupted task at once, so later tasks do not wait for it", async () => {
    const spin = (ms: number, tag: string) => ({
      nodeId: tag,
      stage: "pool/spin",
      module: pluginUrl,
      params: { ms, tag },
      seed: 1,
      baseDir: os.tmpdir(),
      scratchDir: os.tmpdir(),
      key: tag,
      shard: undefined,
      inputs: {}
    })
    const both = (ms: number) =>
      Effect.runPromise(Effect.all([pool.execute(spin(ms, "x"), () => Effect.void), pool.execute(spin(ms, "y"), () => Effect.void)], { concurrency: 2 }))
    await both(10) // both threads up, so the long task below is running when it is cut
    const cut = await Effect.runPromiseExit(pool.execute(spin(30_000, "long"), () => Effect.void).pipe(Effect.timeout(1000)))
    expect(Exit.isFailure(cut)).toBe(true)
    const t0 = Date.now()
    const spans = await both(200)
    // Had the thread kept spinning, one of these would wait ~30 s for it.
    expect(Date.now() - t0).toBeLessThan(15_000)
    const [x, y] = spans.map((o) => o.span as { threadId: number })
    expect(x!.threadId).not.toBe(y!.threadId)
  })

  it("gives each thread cores / size native threads unless EMBEDFLOW_THREADS says otherwise", () => {
    const saved = process.env.EMBEDFLOW_THREADS
    try {
      delete process.env.EMBEDFLOW_THREADS
      expect(WorkerPool.defaultThreadsPerWorker(1)).toBe(os.availableParallelism())
      expect(WorkerPool.defaultThreadsPerWorker(os.availableParallelism() * 2)).toBe(1)
      process.env.EMBEDFLOW_THREADS = "3"
      expect(WorkerPool.defaultThreadsPerWorker(2)).toBe(3)
    } finally {
      if (saved === undefined) delete process.env.EMBEDFLOW_THREADS
      else process.env.EMBEDFLOW_THREADS = saved
    }
  })

  it("stops its threads when its scope closes: a program that used it exits by itself", () => {
    const root = fileURLToPath(new URL("../../..", import.meta.url))
    const script = fileURLToPath(new URL("./fixtures/runAndExit.ts", import.meta.url))
    const r = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", script], { cwd: root, encoding: "utf8", timeout: 90_000 })
    expect(r.error).toBeUndefined()
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
    expect(JSON.parse(r.stdout.trim().split("\n").at(-1)!)).toEqual({ count: 23, threads: "1" })
  })
})
