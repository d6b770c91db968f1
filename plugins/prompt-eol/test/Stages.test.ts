import { ArtifactStore, Graph, makeFileSystem, Plugin, Ports, Runner, Stage } from "@embedflow/core"
import { layerModelHub } from "@embedflow/models"
import { Effect, Schema } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, inject, it } from "vitest"
import { makePromptEolEncoder, plugin } from "../src/index.js"

// A test-only source of texts, so the stage runs inside a real graph.
const texts = Stage.make({
  name: "fixture/texts",
  version: "1",
  description: "texts given inline",
  params: Schema.Struct({ texts: Schema.Array(Schema.String) }),
  inputs: {},
  outputs: { texts: Ports.Texts },
  run: (params) => Effect.succeed({ texts: params.texts.map((text, i) => ({ id: `t${i}`, text })) })
})
const registry = new Plugin.Registry([Plugin.make({ name: "fixture", version: "1", description: "test fixture", stages: [texts] }), plugin])

const roots: Array<string> = []
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })))

const runGraph = (raw: unknown) => {
  const root = mkdtempSync(join(tmpdir(), "embedflow-prompt-eol-"))
  roots.push(root)
  return Effect.runPromise(
    Effect.gen(function* () {
      const graph = yield* Graph.validate(raw, registry)
      return yield* Runner.run(graph, { layer: registry.layer() })
    }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(root)))
  )
}

describe("prompt-eol/embed in a graph", () => {
  const sentences = ["A man is playing a guitar.", "Dogs run.", "Two children build a snowman in the park.", "A cat sleeps."]
  const demonstrations = [{ sentence: "A jockey riding a horse.", word: "Equestrian" }]

  it("embeds texts with their ids, equal to the encoder called directly (batches of 3, demonstrations)", async () => {
    const model = join(inject("tinyModels"), "tiny-gpt2")
    const result = await runGraph({
      name: "prompt-eol",
      nodes: [
        { id: "src", stage: "fixture/texts", params: { texts: sentences } },
        { id: "emb", stage: "prompt-eol/embed", params: { model, demonstrations, batchSize: 3 }, inputs: { texts: "src.texts" } }
      ]
    })
    const out = result.nodes.emb!.outputs.embeddings as { dim: number; count: number; data: Float32Array; ids: ReadonlyArray<string> }
    expect(out.dim).toBe(32)
    expect(out.count).toBe(4)
    expect(out.ids).toEqual(["t0", "t1", "t2", "t3"])
    const direct = await Effect.runPromise(
      Effect.gen(function* () {
        const enc = yield* makePromptEolEncoder({ model, demonstrations })
        return yield* enc.embed(sentences)
      }).pipe(Effect.provide(layerModelHub()))
    )
    let diff = 0
    for (let i = 0; i < direct.length; i++) diff = Math.max(diff, Math.abs(direct[i]! - out.data[i]!))
    expect(diff).toBeLessThan(1e-6)
    for (let r = 0; r < 4; r++) expect(Math.hypot(...out.data.subarray(r * 32, r * 32 + 32))).toBeCloseTo(1, 5)
  })

  it("reports a template without {text} as the node's failure", async () => {
    const model = join(inject("tinyModels"), "tiny-gpt2")
    await expect(
      runGraph({
        name: "prompt-eol-bad",
        nodes: [
          { id: "src", stage: "fixture/texts", params: { texts: sentences } },
          { id: "emb", stage: "prompt-eol/embed", params: { model, template: "no slot" }, inputs: { texts: "src.texts" } }
        ]
      })
    ).rejects.toThrow(/node 'emb'.*template must contain \{text\} exactly once/)
  })
})
