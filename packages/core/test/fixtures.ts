import { Effect, Schema } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { ArtifactStore, Graph, Params, Plugin, PortType, Ports, Runner, Stage, StageContext, StageError, progress } from "../src/index.js"

export const Numbers = PortType.json("Numbers", Schema.Array(Schema.Number))

/** Counts calls per stage, so tests can tell computed nodes from cached ones. */
export const calls: Record<string, number> = {}
const count = (name: string) => (calls[name] = (calls[name] ?? 0) + 1)
export const resetCalls = () => Object.keys(calls).forEach((k) => delete calls[k])

/** Set by tests to make `test/square` fail, as an injected crash in the middle of a run. */
export const failures = { square: false }

export const range = Stage.make({
  name: "test/range",
  version: "1",
  description: "0..n-1",
  params: Schema.Struct({ n: Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0))) }),
  inputs: {},
  outputs: { values: Numbers },
  run: (params) =>
    Effect.gen(function* () {
      count("range")
      const values = Array.from({ length: params.n }, (_, i) => i)
      yield* progress(params.n, params.n, "numbers")
      return { values }
    })
})

export const square = Stage.make({
  name: "test/square",
  version: "1",
  description: "x^2",
  params: Schema.Struct({}),
  inputs: { values: Numbers },
  outputs: { values: Numbers },
  run: (_params, inputs) =>
    Effect.gen(function* () {
      count("square")
      if (failures.square) return yield* new StageError({ message: "injected failure" })
      return { values: inputs.values.map((x) => x * x) }
    })
})

export const sum = Stage.make({
  name: "test/sum",
  version: "1",
  description: "sum, plus an optional offset input",
  params: Schema.Struct({ scale: Params.withDefault(Schema.Number, 1) }),
  inputs: { values: Numbers, offset: Numbers },
  optionalInputs: ["offset"],
  outputs: { total: Numbers },
  run: (params, inputs) =>
    Effect.sync(() => {
      count("sum")
      const offset = inputs.offset ? inputs.offset.reduce((a, b) => a + b, 0) : 0
      return { total: [(inputs.values.reduce((a, b) => a + b, 0) + offset) * params.scale] }
    })
})

/** Sleeps, recording when it ran, to observe overlap of independent nodes. */
export const intervals: Array<{ id: string; start: number; end: number }> = []
export const sleep = Stage.make({
  name: "test/sleep",
  version: "1",
  description: "waits ms milliseconds",
  params: Schema.Struct({ ms: Schema.Number }),
  inputs: {},
  outputs: { values: Numbers },
  run: (params) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const start = performance.now()
      yield* Effect.sleep(params.ms)
      intervals.push({ id: ctx.nodeId, start, end: performance.now() })
      return { values: [ctx.seed] }
    })
})

export const concat = Stage.make({
  name: "test/concat",
  version: "1",
  description: "concatenates a list of number lists (fan-in)",
  params: Schema.Struct({}),
  inputs: { parts: PortType.list(Numbers) },
  outputs: { values: Numbers },
  run: (_params, inputs) => Effect.succeed({ values: inputs.parts.flat() })
})

export const folder = Stage.make({
  name: "test/folder",
  version: "1",
  description: "writes a folder with one file",
  params: Schema.Struct({ content: Schema.String }),
  inputs: {},
  outputs: { files: Ports.Folder, values: Numbers },
  run: (params) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const dir = path.join(ctx.scratchDir, "out")
      yield* Effect.promise(() => fs.mkdir(dir, { recursive: true }).then(() => fs.writeFile(path.join(dir, "a.txt"), params.content)))
      return { files: { path: dir }, values: [params.content.length] }
    })
})

export const texts = Stage.make({
  name: "test/texts",
  version: "1",
  description: "some texts",
  params: Schema.Struct({}),
  inputs: {},
  outputs: { texts: Ports.Texts },
  run: () => Effect.succeed({ texts: [{ id: "a", text: "hello" }] })
})

export const plugin = Plugin.make({ name: "test", version: "1", description: "test stages", stages: [range, square, sum, sleep, concat, folder, texts] })
export const registry = new Plugin.Registry([plugin])

export const tempDir = () => fs.mkdtemp(path.join(os.tmpdir(), "embedflow-core-"))

export const runGraph = (raw: unknown, root: string, options: Runner.RunOptions = {}) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const graph = yield* Graph.validate(raw, registry)
      return yield* Runner.run(graph, options)
    }).pipe(Effect.provideService(ArtifactStore, ArtifactStoreFs(root)))
  )

import { makeFileSystem } from "../src/ArtifactStore.js"
const ArtifactStoreFs = (root: string) => makeFileSystem(root)
