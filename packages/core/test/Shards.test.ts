import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Effect, Schema } from "effect"
import { beforeEach, describe, expect, it } from "vitest"
import {
  ArtifactStore,
  deriveSeed,
  executeTask,
  Graph,
  Plugin,
  PortType,
  Runner,
  Stage,
  StageContext,
  StageError,
  StageExecutor,
  type Vectors
} from "../src/index.js"
import { makeFileSystem } from "../src/ArtifactStore.js"
import { tempDir } from "./fixtures.js"

const Texts = PortType.records("ShardTexts", Schema.Struct({ id: Schema.String, text: Schema.String }))
const Noisy = PortType.records("NoisyTexts", Schema.Struct({ id: Schema.String, text: Schema.String, noise: Schema.Number }))
const Vecs = PortType.vectors("ShardVectors")

const calls = { shards: [] as Array<number>, failAt: -1 }

const source = Stage.make({
  name: "shard/source",
  version: "1",
  description: "n texts",
  params: Schema.Struct({ n: Schema.Number }),
  inputs: {},
  outputs: { texts: Texts },
  run: ({ n }) => Effect.succeed({ texts: Array.from({ length: n }, (_, i) => ({ id: `t${i}`, text: "x".repeat(i % 7) })) })
})

/** Per-item randomness seeded by the item's global index, as a sharded stage must do. */
const noisy = Stage.make({
  name: "shard/noisy",
  version: "1",
  description: "adds seeded noise per text",
  params: Schema.Struct({ scale: Schema.Number }),
  inputs: { texts: Texts },
  outputs: { texts: Noisy, vectors: Vecs },
  shard: { over: "texts", items: 4 },
  run: ({ scale }, { texts }) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const offset = ctx.shard?.offset ?? 0
      calls.shards.push(ctx.shard?.index ?? -1)
      if (ctx.shard?.index === calls.failAt) return yield* new StageError({ message: `injected failure in shard ${calls.failAt}` })
      const noise = texts.map((_, i) => (deriveSeed(ctx.seed, String(offset + i)) / 2 ** 32) * scale)
      const data = new Float32Array(texts.length * 2)
      texts.forEach((t, i) => {
        data[2 * i] = t.text.length
        data[2 * i + 1] = noise[i]!
      })
      return {
        texts: texts.map((t, i) => ({ ...t, noise: noise[i]! })),
        vectors: { dim: 2, count: texts.length, data, ids: texts.map((t) => t.id) } satisfies Vectors
      }
    })
})

/** Records the size of every shard it sees; batches of 4. */
const sizes: Array<number> = []
const batched = Stage.make({
  name: "shard/batched",
  version: "1",
  description: "records shard sizes",
  params: Schema.Struct({ batch: Schema.Number }),
  inputs: { texts: Texts },
  outputs: { texts: Texts },
  shard: { over: "texts", items: 5, batchOf: (p) => p.batch },
  run: (_p, { texts }) => Effect.sync(() => (sizes.push(texts.length), { texts }))
})

const plugin = Plugin.make({ name: "shard", version: "1", description: "sharding tests", stages: [source, noisy, batched] })

const graph = (n: number) => ({
  name: "sharded",
  seed: 3,
  nodes: [
    { id: "src", stage: "shard/source", params: { n } },
    { id: "noisy", stage: "shard/noisy", params: { scale: 2 }, inputs: { texts: "src.texts" } }
  ]
})

const run = (root: string, n: number, options: Runner.RunOptions = {}, executor?: StageExecutor["Service"]) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const g = yield* Graph.validate(graph(n), new Plugin.Registry([plugin]))
      const result = yield* Runner.run(g, options)
      return result.nodes.noisy!.outputs as { texts: ReadonlyArray<{ noise: number }>; vectors: Vectors }
    }).pipe(
      Effect.provideService(ArtifactStore, makeFileSystem(root)),
      executor ? Effect.provideService(StageExecutor, executor) : (e) => e
    )
  )

beforeEach(() => {
  calls.shards = []
  calls.failAt = -1
})

describe("sharded stages", () => {
  it("merge to the same output whatever the shard size", async () => {
    const whole = await run(await tempDir(), 10, { shardItems: 1000 })
    expect(calls.shards).toEqual([0])
    calls.shards = []
    const sharded = await run(await tempDir(), 10)
    expect(calls.shards).toEqual([0, 1, 2])
    const byThree = await run(await tempDir(), 10, { shardItems: 3 })
    for (const other of [sharded, byThree]) {
      expect(other.texts).toEqual(whole.texts)
      expect(other.vectors.ids).toEqual(whole.vectors.ids)
      expect(Buffer.from(other.vectors.data.buffer).equals(Buffer.from(whole.vectors.data.buffer))).toBe(true)
    }
    expect(new Set(whole.texts.map((t) => t.noise)).size).toBe(10)
  })

  it("resume at shard granularity after a failure, and reuse equal shards when the input grows", async () => {
    const root = await tempDir()
    calls.failAt = 2
    await expect(run(root, 12)).rejects.toThrow(/injected failure in shard 2/)
    expect(calls.shards.sort()).toEqual([0, 1, 2])
    calls.failAt = -1
    calls.shards = []
    const resumed = await run(root, 12)
    expect(calls.shards).toEqual([2])
    calls.shards = []
    const reference = await run(await tempDir(), 12)
    expect(resumed).toEqual(reference)
    // 16 items: the first three shards are the same items at the same offsets.
    calls.shards = []
    await run(root, 16)
    expect(calls.shards).toEqual([3])
  })

  it("store one entry per shard, named after its node and index", async () => {
    const root = await tempDir()
    await run(root, 9)
    const manifests = await Promise.all(
      (await fs.readdir(path.join(root, "cache"), { recursive: true }))
        .filter((f) => f.endsWith("manifest.json"))
        .map(async (f) => JSON.parse(await fs.readFile(path.join(root, "cache", f), "utf8")) as { nodeId: string })
    )
    expect(manifests.map((m) => m.nodeId).sort()).toEqual(["noisy", "noisy#0", "noisy#1", "noisy#2", "src"])
  })

  it("send shards to a provided executor, several at once, with the plugin's module", async () => {
    Plugin.recordModule(plugin, "embedflow-test:shard-plugin")
    const tasks: Array<{ module: string | undefined; shard: number | undefined; items: number }> = []
    let inFlight = 0
    let maxInFlight = 0
    const executor: StageExecutor["Service"] = {
      name: "test executor",
      capacity: 2,
      runs: "shards",
      execute: (task, emit) =>
        Effect.gen(function* () {
          // The stage needs no services: what executeTask leaves open is empty here.
          tasks.push({ module: task.module, shard: task.shard?.index, items: (task.inputs.texts as Array<unknown>).length })
          inFlight++
          maxInFlight = Math.max(maxInFlight, inFlight)
          yield* Effect.sleep(20)
          const out = yield* (executeTask(noisy, task, emit) as Effect.Effect<Record<string, unknown>, StageError>)
          inFlight--
          return out
        })
    }
    const viaExecutor = await run(await tempDir(), 10, {}, executor)
    expect(tasks.map((t) => [t.shard, t.items]).sort()).toEqual([[0, 4], [1, 4], [2, 2]])
    expect(tasks.every((t) => t.module === "embedflow-test:shard-plugin")).toBe(true)
    expect(maxInFlight).toBe(2)
    expect(viaExecutor).toEqual(await run(await tempDir(), 10))
  })

  it("round shard sizes up to a multiple of the stage's batch", async () => {
    const root = await tempDir()
    await Effect.runPromise(
      Effect.gen(function* () {
        const g = yield* Graph.validate(
          {
            name: "batched",
            nodes: [
              { id: "src", stage: "shard/source", params: { n: 19 } },
              { id: "b", stage: "shard/batched", params: { batch: 4 }, inputs: { texts: "src.texts" } }
            ]
          },
          new Plugin.Registry([plugin])
        )
        return yield* Runner.run(g)
      }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(root)))
    )
    expect(sizes).toEqual([8, 8, 3])
  })

  it("refuse a shard spec over a port that cannot be cut, or outputs that cannot be merged", () => {
    const base = { version: "1", description: "", params: Schema.Struct({}), run: () => Effect.succeed({}) as never }
    expect(() =>
      Stage.make({ ...base, name: "shard/bad-port", inputs: { n: PortType.json("N", Schema.Number) }, outputs: {}, shard: { over: "n" } })
    ).toThrow(/shard.over 'n' must be a records or vectors input port/)
    expect(() =>
      Stage.make({ ...base, name: "shard/bad-out", inputs: { texts: Texts }, outputs: { report: PortType.json("R", Schema.Number) }, shard: { over: "texts" } })
    ).toThrow(/output 'report' \(json\) needs a shard.merge/)
  })
})
