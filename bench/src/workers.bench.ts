/**
 * Local parallelism: the Cranfield + CISI documents, repeated `copies` times (ids made unique), embedded
 * by `models/embed` (GloVe 6B 100-d, SIF weights; the default graph's encoder) through the runner with
 * the stage sharded, with an empty store each time: in the runner's own fiber (the baseline), then on a
 * worker-thread pool of 1 and of 2 threads (@embedflow/threads). Each pool runs the graph twice, on two
 * empty stores: "cold" includes starting the threads and loading the encoder in each (what one
 * `embedflow run --workers N` pays), "warm" is the same pool again (a long-lived pool or runner). Prints
 * wall times, the 2-vs-1 ratios (goal ≥ 1.7 on 2 cores), the load average, and checks that every
 * output is bit-identical.
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
import { Effect, Schema } from "effect"

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

/** One run with an empty store, in the given context (a pool or none); the embed node's wall time. */
const runOnce = (label: string) =>
  Effect.gen(function* () {
    const store = fs.mkdtempSync(path.join(os.tmpdir(), "embedflow-workers-bench-"))
    try {
      let embedSeconds = 0
      const t0 = performance.now()
      const graph = yield* Graph.validate(spec, new Plugin.Registry([dataPlugin, modelsPlugin, benchPlugin]))
      const result = yield* Runner.run(graph, {
        shardItems,
        listeners: [(e) => void (e.type === "node-finished" && e.nodeId === "embed" && (embedSeconds = e.seconds))]
      }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(store)))
      const wall = (performance.now() - t0) / 1000
      const vectors = result.nodes.embed!.outputs.embeddings as Vectors
      console.log(`${label.padEnd(28)} embed ${embedSeconds.toFixed(2).padStart(7)} s   run ${wall.toFixed(2).padStart(7)} s   ${vectors.count} texts`)
      return { embedSeconds, wall, vectors }
    } finally {
      fs.rmSync(store, { recursive: true, force: true })
    }
  })

/** A pool of `size` threads running the graph twice: cold (threads start, encoders load), then warm. */
const withPool = (size: number) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* WorkerPool.make({ size })
        const name = `${size} worker thread${size === 1 ? "" : "s"}`
        const cold = yield* runOnce(`${name}, cold`).pipe(Effect.provideService(StageExecutor, pool))
        const warm = yield* runOnce(`${name}, warm`).pipe(Effect.provideService(StageExecutor, pool))
        return { cold, warm }
      })
    )
  )

console.log(`${os.availableParallelism()} cores; load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}; ${copies}x (Cranfield + CISI documents), shards of ${shardItems}`)
const inProcess = await Effect.runPromise(runOnce("in-process (baseline)"))
const one = await withPool(1)
const two = await withPool(2)
const bytes = (v: Vectors) => Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength)
const same = [one.cold, one.warm, two.cold, two.warm].every((r) => bytes(r.vectors).equals(bytes(inProcess.vectors)))
console.log(`outputs bit-identical: ${same}`)
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`
console.log(
  `speed-up, embed node, 2 workers vs 1: cold ${ratio(one.cold.embedSeconds, two.cold.embedSeconds)}, warm ${ratio(one.warm.embedSeconds, two.warm.embedSeconds)} (goal >= 1.7x on 2 cores); 2 workers (cold) vs in-process ${ratio(inProcess.embedSeconds, two.cold.embedSeconds)}`
)
console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`)
if (!same) process.exit(1)
