// Runs one embedflow graph through the real, built packages (dist) and prints what it produced as
// JSON, so the test can compare Node, Bun and Deno. The graph uses the plugins as installed apps do
// (Plugin.load by package name): bm25 retrieval and hard negatives, the false-negative masker,
// contrastive-trainer (tensor's losses and heads, ONNX export through @embedflow/onnx), models/embed
// (transformers.js tokenizer + onnxruntime-node) and faiss-index (faiss-node addon) search.
// Only the source texts are inline. Usage: graph-check.mjs <tinyModelsDir> <storeDir>
import * as path from "node:path"
import { Effect, Schema } from "effect"
import { Graph, Plugin, Ports, Runner, Stage, layerFileSystem } from "@embedflow/core"

const [modelsDir, storeDir] = process.argv.slice(2)
const runtime = typeof globalThis.Bun !== "undefined" ? "bun" : typeof globalThis.Deno !== "undefined" ? "deno" : "node"

const subjects = ["a man", "a woman", "two dogs", "the cat", "a child", "an old man", "the band", "a girl"]
const actions = ["is playing a guitar", "runs in the park", "sleeps on the sofa", "is cooking dinner", "rides a bike", "reads a book"]
const sentences = subjects.flatMap((s, i) => actions.map((a, j) => ({ id: `s${i}-${j}`, text: `${s} ${a}` })))
const source = Stage.make({
  name: "fixture/texts",
  version: "1",
  description: "fixed sentences, queries and (anchor, positive) pairs",
  params: Schema.Struct({}),
  inputs: {},
  outputs: { corpus: Ports.Texts, queries: Ports.Texts, pairs: Ports.Triples },
  run: () =>
    Effect.succeed({
      corpus: sentences,
      queries: [
        { id: "q1", text: "a man playing guitar" },
        { id: "q2", text: "dogs running in a park" },
        { id: "q3", text: "who is cooking dinner" }
      ],
      pairs: sentences.slice(0, 24).map((s, k) => ({ anchor: s.text, positive: sentences[(k + 6) % sentences.length].text }))
    })
})

const registry = new Plugin.Registry([
  Plugin.make({ name: "fixture", version: "1", description: "runtime check fixture", stages: [source] }),
  ...(await Promise.all(["@embedflow/bm25", "@embedflow/false-negative-masker", "@embedflow/contrastive-trainer", "@embedflow/models", "@embedflow/faiss-index"].map(Plugin.load)))
])
const bert = path.join(modelsDir, "tiny-bert")
const graph = {
  name: `runtime-check-${runtime}`,
  seed: 3,
  nodes: [
    { id: "texts", stage: "fixture/texts" },
    { id: "bm25", stage: "bm25/retrieve", params: { k: 5 }, inputs: { corpus: "texts.corpus", queries: "texts.queries" } },
    { id: "negatives", stage: "bm25/hard-negatives", inputs: { pairs: "texts.pairs", corpus: "texts.corpus" } },
    { id: "batches", stage: "false-negative-masker/mask", params: { teacher: bert, mode: "gist", margin: 0, batchSize: 8 }, inputs: { triples: "negatives.triples" } },
    { id: "train", stage: "contrastive-trainer/train", params: { encoder: bert, head: "adapter", rank: 4, epochs: 2, lr: 0.01 }, inputs: { batches: "batches.batches" } },
    { id: "corpus-vectors", stage: "models/embed", inputs: { model: "train.model", texts: "texts.corpus" } },
    { id: "query-vectors", stage: "models/embed", inputs: { model: "train.model", texts: "texts.queries" } },
    { id: "index", stage: "faiss-index/build", params: { factory: "Flat" }, inputs: { vectors: "corpus-vectors.embeddings" } },
    { id: "search", stage: "faiss-index/search", params: { k: 5 }, inputs: { index: "index.index", queries: "query-vectors.embeddings" } }
  ]
}

const result = await Effect.runPromise(
  Graph.validate(graph, registry).pipe(
    Effect.flatMap((g) => Runner.run(g, { layer: registry.layer() })),
    Effect.provide(layerFileSystem(storeDir))
  )
)
const ids = (candidates) => candidates.map((c) => `${c.queryId}:${c.docId}`)
const outputs = (id) => result.nodes[id].outputs
console.log(
  JSON.stringify({
    runtime,
    bm25: ids(outputs("bm25").candidates),
    masked: outputs("batches").batches.reduce((n, b) => n + b.masked, 0),
    objective: [outputs("train").report.objectiveBefore, outputs("train").report.objectiveAfter],
    vectors: Array.from(outputs("query-vectors").embeddings.data),
    faiss: ids(outputs("search").candidates)
  })
)
