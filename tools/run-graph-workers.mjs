#!/usr/bin/env node
// Runs a graph (default: the built-in demo graph) with the built packages, its stage work on a pool of
// worker threads (@embedflow/threads), until the CLI has a `--workers N` option. Exit codes as the CLI's:
// 0 ok, 1 a node failed, 2 bad usage.
// Usage: bash tools/node.sh tools/run-graph-workers.mjs [--workers N (default: cores; 0 = no pool)] [--store DIR] [graph.yaml]
import * as path from "node:path"
import { parseArgs } from "node:util"
import { Graph, layerFileSystem, Runner } from "@embedflow/core"
import { defaultGraphPath, loadRegistry } from "@embedflow/cli"
import { WorkerPool } from "@embedflow/threads"
import { Effect } from "effect"

const { values, positionals } = parseArgs({ options: { workers: { type: "string" }, store: { type: "string" } }, allowPositionals: true })
const workers = values.workers === undefined ? WorkerPool.defaultSize() : Number(values.workers)
if (!Number.isInteger(workers) || workers < 0) {
  console.error(`--workers must be a whole number >= 0, got '${values.workers}'`)
  process.exit(2)
}
const file = positionals[0] ?? defaultGraphPath
const store = path.resolve(values.store ?? process.env.EMBEDFLOW_STORE ?? ".embedflow")
const started = performance.now()
const program = Effect.gen(function* () {
  const graph = yield* Graph.load(file, yield* Effect.promise(() => loadRegistry()))
  return yield* Runner.run(graph, {
    listeners: [(e) => e.type === "node-failed" && console.error(`node ${e.nodeId} failed: ${e.error}`)]
  })
}).pipe(workers > 0 ? Effect.provide(WorkerPool.layer({ size: workers })) : (e) => e, Effect.provide(layerFileSystem(store)))
const exit = await Effect.runPromiseExit(program)
const seconds = ((performance.now() - started) / 1000).toFixed(1)
if (exit._tag === "Success") {
  const nodes = Object.values(exit.value.nodes)
  console.log(`${file}: ${nodes.filter((n) => !n.cached).length} computed, ${nodes.filter((n) => n.cached).length} cached in ${seconds} s on ${workers > 0 ? `${workers} worker thread(s)` : "the main thread"}; run folder ${exit.value.runDir}`)
} else {
  console.error(String(exit.cause))
  process.exitCode = 1
}
