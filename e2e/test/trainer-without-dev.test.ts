import { ArtifactStore, Graph, makeFileSystem, Plugin, Ports, Runner, Stage } from "@embedflow/core"
import { plugin as data } from "@embedflow/data"
import { plugin as masker } from "@embedflow/false-negative-masker"
import { layerModelHub } from "@embedflow/models"
import { Effect, Schema } from "effect"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { plugin } from "@embedflow/contrastive-trainer"

const glove = resolve(import.meta.dirname, "../../models/glove-6b-100d")

const take = Stage.make({
  name: "fixture/take",
  version: "1",
  description: "the first triples",
  params: Schema.Struct({ count: Schema.Number }),
  inputs: { triples: Ports.Triples },
  outputs: { triples: Ports.Triples },
  run: (params, inputs) => Effect.succeed({ triples: inputs.triples.slice(0, params.count) })
})
const registry = new Plugin.Registry([Plugin.make({ name: "fixture", version: "1", description: "test fixture", stages: [take] }), data, masker, plugin])

const root = mkdtempSync(join(tmpdir(), "embedflow-no-dev-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** The optional `dev` input left unconnected. */
const graph = {
  name: "no-dev",
  seed: 3,
  nodes: [
    { id: "snli", stage: "data/snli-triples", params: { split: "dev" } },
    { id: "take", stage: "fixture/take", params: { count: 128 }, inputs: { triples: "snli.triples" } },
    { id: "batches", stage: "false-negative-masker/mask", params: { teacher: glove, mode: "none", batchSize: 64 }, inputs: { triples: "take.triples" } },
    { id: "train", stage: "contrastive-trainer/train", params: { encoder: glove, onnxFile: "onnx/model_sif.onnx", epochs: 1 }, inputs: { batches: "batches.batches" } }
  ]
}

const run = () =>
  Effect.runPromise(
    Effect.gen(function* () {
      return yield* Runner.run(yield* Graph.validate(graph, registry), { layer: registry.layer() })
    }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(root)), Effect.provide(layerModelHub()))
  )

describe("contrastive-trainer/train without its optional dev input", () => {
  it("trains, stores the model and a report without devSpearman, and serves both from the cache", async () => {
    if (!existsSync(join(glove, "onnx/model_sif.onnx"))) throw new Error(`${glove} is missing: run \`bash tools/setup.sh\``)
    const first = await run()
    const report = first.nodes.train!.outputs.report as Record<string, unknown>
    expect(report.batches).toBe(2)
    expect(report.devSpearman).toBeUndefined()
    expect(existsSync(join((first.nodes.train!.outputs.model as { path: string }).path, "config.json"))).toBe(true)
    const again = await run()
    expect(again.nodes.train!.cached).toBe(true)
    expect(again.nodes.train!.outputs.report).toEqual(report)
    expect(again.nodes.train!.outputs.report).not.toHaveProperty("devSpearman") // omitted on disk, as JSON would
  }, 120_000)
})
