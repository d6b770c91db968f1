import { ArtifactStore, Graph, makeFileSystem, Plugin, Ports, Runner, Stage } from "@embedflow/core"
import { Effect, Schema } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { chunkDocument, plugin } from "../src/index.js"

const texts = Stage.make({
  name: "fixture/texts",
  version: "1",
  description: "texts given inline",
  params: Schema.Struct({ texts: Schema.Array(Ports.TextRecord) }),
  inputs: {},
  outputs: { texts: Ports.Texts },
  run: (params) => Effect.succeed({ texts: params.texts })
})
const registry = new Plugin.Registry([Plugin.make({ name: "fixture", version: "1", description: "test fixture", stages: [texts] }), plugin])
const root = mkdtempSync(join(tmpdir(), "embedflow-rag-stage-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const runGraph = (raw: unknown) =>
  Effect.runPromise(
    Effect.gen(function* () {
      return yield* Runner.run(yield* Graph.validate(raw, registry))
    }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(root)))
  )

describe("rag/chunk in a graph", () => {
  const docs = [
    { id: "a.md", text: "one two three four five six seven eight nine ten eleven" },
    { id: "b.txt", text: "alpha beta gamma" }
  ]
  it("chunks each text, ids carrying the source id and offsets", async () => {
    const result = await runGraph({
      name: "chunk",
      nodes: [
        { id: "src", stage: "fixture/texts", params: { texts: docs } },
        { id: "chunk", stage: "rag/chunk", params: { size: 4, overlap: 1 }, inputs: { texts: "src.texts" } }
      ]
    })
    const chunks = result.nodes.chunk!.outputs.chunks as ReadonlyArray<{ id: string; text: string }>
    const expected = docs.flatMap((d) => chunkDocument(d.id, d.text, { unit: "words", size: 4, overlap: 1 }).map((c) => ({ id: c.id, text: c.text })))
    expect(chunks).toEqual(expected)
    expect(chunks.map((c) => c.id)).toEqual(["a.md#0-18", "a.md#14-33", "a.md#28-48", "a.md#45-55", "b.txt#0-16"])
  })

  it("reports an overlap that is not below the size as the node's failure", async () => {
    await expect(
      runGraph({
        name: "chunk-bad",
        nodes: [
          { id: "src", stage: "fixture/texts", params: { texts: docs } },
          { id: "chunk", stage: "rag/chunk", params: { size: 4, overlap: 4 }, inputs: { texts: "src.texts" } }
        ]
      })
    ).rejects.toThrow(/node 'chunk'.*overlap must be an integer in \[0, size\)/)
  })
})
