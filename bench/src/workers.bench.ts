/**
 * Local parallelism: the Cranfield + CISI documents, repeated `copies` times (ids made unique), embedded
 * by `models/embed` (GloVe 6B 100-d, SIF weights; the default graph's encoder) through the runner with
 * the stage sharded, with an empty store each time: in the runner's own fiber (the baseline), then on a
 * worker-thread pool of 1 and of 2 threads (@embedflow/threads). Prints wall times, the 2-vs-1 ratio
 * (goal ≥ 1.7 on 2 cores), the load average, and checks the three outputs are bit-identical.
 *
 *   node --conditions=source --import tsx bench/src/workers.bench.ts [copies=20] [shardItems=512]
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { ArtifactStore, Graph, makeFileSystem, Plugin, Ports, Runner, Stage, StageExecutor, type Vectors } from "@embedflow/core"
import { plugin as dataPlugin } from "@embedflow/data"
import { plugin as modelsPlugin } from "@embedflow/models"
import { WorkerPool } from "@embedflow/threads"
import { Effect, Layer, Schema } from "effect"

const copies = Number(process.argv[2] ?? 20)
const shardItems = Number(process.argv[3] ?? 512)
const root = path.resolve(import.meta.dirname, "../..")
if (!process.env.EMBEDFLOW_DATA && fs.existsSync(path.resolve(root, "../shared/data"))) process.env.EMBEDFLOW_DATA = path.resolve(root, "../shared/data")
const glove = path.join(root, "models/glove-6b-100d")
if (!fs.existsSync(path.join(glove, "onnx/model_sif.onnx"))) throw new Error(`${glove} is not built: run \`bash tools/setup.sh\``)

// The workers import the models plugin by this URL (its sources here, under --conditions=source and tsx).
Plugin.recordModule(modelsPlugin, import.meta.resolve("@embedflow/models"))

/** Both corpora, `copies` times over, in one list (made here, in the runner's process). */
const replicate = Stage.make({
  name: "workers-bench/replicate",
  version: "1",
  description: "concatenates two text lists, n copies, ids suffixed with the copy",
  params: Schema.Struct({ copies: Schema.Number }),
  inputs: { a: Ports.Texts, b: Ports.Texts },
  outputs: { texts: Ports.Texts },
  run: ({ copies }, { a, b }) =>
    Effect.succeed({ texts: Array.from({ length: copies }, (_, c) => [...a, ...b].map((t) => ({ id: `${t.id}#${c}`, text: t.text }))).flat() })
})
const benchPlugin = Plugin.make({ name: "workers-bench", version: "1", description: "", stages: [replicate] })

const spec = {
  name: "workers-bench",
  seed: 1,
  nodes: [
    { id: "cranfield", stage: "data/ir-collection", params: { collection: "cranfield" } },
    { id: "cisi", stage: "data/ir-collection", params: { collection: "cisi" } },
    { id: "texts", stage: "workers-bench/replicate", params: { copies }, inputs: { a: "cranfield.documents", b: "cisi.documents" } },
    { id: "embed", stage: "models/embed", params: { model: glove, onnxFile: "onnx/model_sif.onnx" }, inputs: { texts: "texts.texts" } }
  ]
}

/** One run with an empty store; the embed node's wall time (the data nodes are the same in every run). */
const measure = async (label: string, pool: Layer.Layer<StageExecutor, unknown> | undefined) => {
  const store = fs.mkdtempSync(path.join(os.tmpdir(), "embedflow-workers-bench-"))
  try {
    let embedSeconds = 0
    const t0 = performance.now()
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const graph = yield* Graph.validate(spec, new Plugin.Registry([dataPlugin, modelsPlugin, benchPlugin]))
        return yield* Runner.run(graph, {
          shardItems,
          listeners: [(e) => void (e.type === "node-finished" && e.nodeId === "embed" && (embedSeconds = e.seconds))]
        })
      }).pipe(pool ? Effect.provide(pool) : (e) => e, Effect.provideService(ArtifactStore, makeFileSystem(store)))
    )
    const wall = (performance.now() - t0) / 1000
    const vectors = result.nodes.embed!.outputs.embeddings as Vectors
    console.log(`${label.padEnd(22)} embed ${embedSeconds.toFixed(2).padStart(7)} s   run (incl. pool start/stop) ${wall.toFixed(2).padStart(7)} s   ${vectors.count} texts`)
    return { embedSeconds, wall, vectors }
  } finally {
    fs.rmSync(store, { recursive: true, force: true })
  }
}

console.log(`${os.availableParallelism()} cores; load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}; ${copies}x (Cranfield + CISI documents), shards of ${shardItems}`)
const inProcess = await measure("in-process (baseline)", undefined)
const one = await measure("1 worker thread", WorkerPool.layer({ size: 1 }))
const two = await measure("2 worker threads", WorkerPool.layer({ size: 2 }))
const same = [one, two].every(
  (r) => Buffer.from(r.vectors.data.buffer, r.vectors.data.byteOffset, r.vectors.data.byteLength).equals(Buffer.from(inProcess.vectors.data.buffer, inProcess.vectors.data.byteOffset, inProcess.vectors.data.byteLength))
)
console.log(`outputs bit-identical: ${same}`)
console.log(`speed-up, embed node: 2 workers vs 1 ${(one.embedSeconds / two.embedSeconds).toFixed(2)}x, 2 workers vs in-process ${(inProcess.embedSeconds / two.embedSeconds).toFixed(2)}x (goal >= 1.7x on 2 cores)`)
console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`)
if (!same) process.exit(1)
