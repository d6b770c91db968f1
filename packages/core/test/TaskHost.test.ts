import { Context, Effect, Layer, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { executeTask, makeTaskHost, Plugin, PortType, Stage, type StageTask, type TaskEvent } from "../src/index.js"

class Greeting extends Context.Service<Greeting, { readonly word: string }>()("test/Greeting") {}
let layersBuilt = 0

const greet = Stage.make({
  name: "host/greet",
  version: "1",
  description: "greets each name with the plugin's service",
  params: Schema.Struct({ suffix: Schema.String }),
  inputs: { names: PortType.records("Names", Schema.Struct({ name: Schema.String })) },
  outputs: { lines: PortType.records("Lines", Schema.Struct({ line: Schema.String })) },
  run: ({ suffix }, { names }) =>
    Effect.gen(function* () {
      const { word } = yield* Greeting
      return { lines: names.map((n) => ({ line: `${word} ${n.name}${suffix}` })) }
    })
})

const plugin = Plugin.make({
  name: "host",
  version: "1",
  description: "",
  stages: [greet],
  layer: Layer.effect(Greeting, Effect.sync(() => (layersBuilt++, { word: "hello" })))
})

const task = (over: Partial<StageTask> = {}): StageTask => ({
  nodeId: "g",
  stage: "host/greet",
  module: "test:host",
  params: { suffix: "!" },
  seed: 1,
  baseDir: "/",
  scratchDir: "/tmp",
  key: "k",
  shard: undefined,
  inputs: { names: [{ name: "ada" }, { name: "alan" }] },
  ...over
})

const modules: Record<string, unknown> = { "test:host": { plugin } }
const importModule = async (s: string) => {
  if (!(s in modules)) throw new Error(`no module ${s}`)
  return modules[s]
}

describe("TaskHost", () => {
  it("imports the task's plugin, builds its services once, and runs the stage", async () => {
    const host = makeTaskHost({ importModule })
    const events: Array<TaskEvent> = []
    const emit = (e: TaskEvent) => Effect.sync(() => void events.push(e))
    const first = await Effect.runPromise(host.run(task(), emit))
    const second = await Effect.runPromise(host.run(task({ params: { suffix: "?" } }), emit))
    expect(first).toEqual({ lines: [{ line: "hello ada!" }, { line: "hello alan!" }] })
    expect(second.lines).toEqual([{ line: "hello ada?" }, { line: "hello alan?" }])
    expect(layersBuilt).toBe(1)
    await host.dispose()
  })

  it("fails with a message naming a missing module, a missing stage and bad params", async () => {
    const host = makeTaskHost({ importModule })
    const emit = () => Effect.void
    await expect(Effect.runPromise(host.run(task({ module: "test:nope" }), emit))).rejects.toThrow(/cannot load plugin 'test:nope': no module test:nope/)
    await expect(Effect.runPromise(host.run(task({ stage: "host/other" }), emit))).rejects.toThrow(/plugin 'test:host' has no stage 'host\/other'/)
    await expect(Effect.runPromise(host.run(task({ params: { suffix: 3 } }), emit))).rejects.toThrow(/suffix/)
    await host.dispose()
  })

  it("turns what a stage and its services log through Effect into the task's log events", async () => {
    const chatty = Stage.make({
      name: "host/chatty",
      version: "1",
      description: "logs through Effect",
      params: Schema.Struct({}),
      inputs: {},
      outputs: {},
      run: () => Effect.gen(function* () {
        yield* Effect.log("starting", 3)
        yield* Effect.logWarning("6 of 512 texts were truncated")
        yield* Effect.logDebug("not shown at the default level")
        return {}
      })
    })
    const events: Array<TaskEvent> = []
    await Effect.runPromise(executeTask(chatty, task({ stage: "host/chatty", params: {} }), (e) => Effect.sync(() => void events.push(e))) as Effect.Effect<unknown>)
    await new Promise((r) => setTimeout(r, 10))
    expect(events).toEqual([
      { type: "log", message: "starting 3" },
      { type: "log", message: "warn: 6 of 512 texts were truncated" }
    ])
  })
})
