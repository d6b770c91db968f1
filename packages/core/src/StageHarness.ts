import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, type Layer, Schema } from "effect"
import { ArtifactStore, makeFileSystem } from "./ArtifactStore.js"
import * as Graph from "./Graph.js"
import * as Plugin from "./Plugin.js"
import * as Runner from "./Runner.js"
import * as Stage from "./Stage.js"
import type { AnyStage } from "./Stage.js"

/**
 * Runs `stage` once through the runner in a throwaway store, its inputs given by value (one source
 * node per port), with `shardItems` items per shard; returns its outputs. For plugin tests: comparing
 * `shardItems: 3` with one shard checks that a sharded stage treats its items independently.
 */
export const runStageOnce = async (
  stage: AnyStage,
  params: Record<string, unknown>,
  inputs: Record<string, unknown>,
  shardItems: number,
  layer?: Layer.Layer<any, any, never>
): Promise<Record<string, unknown>> => {
  const sources = Object.entries(inputs).map(([port, value]) =>
    Stage.make({
      name: `given/${port.toLowerCase().replace(/[^a-z0-9]/g, "-")}`,
      version: "1",
      description: `the test's ${port}`,
      params: Schema.Struct({}),
      inputs: {},
      outputs: { value: stage.inputs[port] },
      run: () => Effect.succeed({ value })
    })
  )
  const plugin = stage.name.split("/")[0]!
  const registry = new Plugin.Registry([
    Plugin.make({ name: plugin, version: "1", description: "", stages: [stage] }),
    Plugin.make({ name: "given", version: "1", description: "", stages: sources })
  ])
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-sharded-"))
  try {
    return await Effect.runPromise(
      Effect.gen(function* () {
        const graph = yield* Graph.validate(
          {
            name: "sharded",
            seed: 11,
            nodes: [
              ...sources.map((s) => ({ id: s.name.replace("/", "-"), stage: s.name })),
              { id: "node", stage: stage.name, params, inputs: Object.fromEntries(sources.map((s, i) => [Object.keys(inputs)[i]!, `${s.name.replace("/", "-")}.value`])) }
            ]
          },
          registry
        )
        const result = yield* Runner.run(graph, { shardItems, ...(layer ? { layer } : {}) })
        return result.nodes.node!.outputs as Record<string, unknown>
      }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(root)))
    )
  } finally {
    await fs.rm(root, { recursive: true, force: true })
  }
}
