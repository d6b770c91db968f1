/**
 * Runs graph.yaml and its ablations (w = 0, no self-curation, GISTEmbed's relative masking rule
 * instead of MultiCSR's threshold, no false-negative masking) through
 * the runner, sharing one artifact store so unchanged nodes are computed once, then prints the
 * table. Usage: node --conditions=source --import tsx examples/multicsr/src/ablations.ts [--store DIR]
 */
import { Graph, layerFileSystem, Runner } from "@embedflow/core"
import { loadRegistry } from "@embedflow/cli"
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { parse } from "yaml"

interface NodeSpec {
  id: string
  stage: string
  params?: Record<string, unknown>
  inputs?: Record<string, string>
}
interface GraphFile {
  name: string
  plugins: Array<string>
  nodes: Array<NodeSpec>
}

const here = path.dirname(new URL(import.meta.url).pathname)
const graphFile = path.resolve(here, "../graph.yaml")
const storeArg = process.argv.indexOf("--store")
const store = path.resolve(storeArg > 0 ? process.argv[storeArg + 1]! : path.resolve(here, "../.embedflow"))

const node = (g: GraphFile, id: string) => g.nodes.find((n) => n.id === id)!

/** Each variant edits a copy of the full graph. */
const variants: Array<{ name: string; edit: (g: GraphFile) => void }> = [
  { name: "MultiCSR (w=0.5, curation, threshold masking)", edit: () => {} },
  { name: "w = 0 (plain decoding)", edit: (g) => void (node(g, "generate").params!.w = 0) },
  {
    name: "no self-curation",
    edit: (g) => void (node(g, "mask").inputs!.triples = "generate.triples")
  },
  {
    name: "GISTEmbed masking (relative rule, margin 0.02)",
    edit: (g) => void Object.assign(node(g, "mask").params!, { mode: "gist", margin: 0.02 })
  },
  { name: "no false-negative masking", edit: (g) => void (node(g, "mask").params!.mode = "none") }
]

const main = async () => {
  const base = parse(await fs.readFile(graphFile, "utf8")) as GraphFile
  const registry = await loadRegistry(base.plugins, path.dirname(graphFile))
  const rows: Array<Array<string>> = []
  let baseline: number | undefined
  for (const v of variants) {
    const g = structuredClone(base)
    v.edit(g)
    g.name = `${base.name}-${v.name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`
    if (v.name.startsWith("no self-curation")) g.nodes = g.nodes.filter((n) => n.id !== "curate")
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const graph = yield* Graph.validate(g, registry, { source: graphFile, baseDir: path.dirname(graphFile) })
        return yield* Runner.run(graph, { layer: registry.layer() })
      }).pipe(Effect.provide(layerFileSystem(store)))
    )
    const out = (id: string, port: string) => result.nodes[id]?.outputs[port] as Record<string, any> | undefined
    const test = out("eval-trained", "report")!
    const train = out("train", "report")!
    const mask = out("mask", "report")!
    const curate = out("curate", "report")
    baseline = (out("eval-base", "report")!.spearman as number) * 100
    rows.push([
      v.name,
      curate ? `${curate.kept}/${curate.triples}` : "64/64",
      `${(mask.maskRate * 100).toFixed(1)}%`,
      `${train.bestEpoch}`,
      ((train.devSpearman as number) * 100).toFixed(2),
      ((test.spearman as number) * 100).toFixed(2)
    ])
  }
  const header = ["variant", "triples kept", "mask rate", "best epoch", "STS-B dev ρ×100", "STS-B test ρ×100"]
  const table = [header, header.map(() => "---"), ...rows, ["frozen tiny-bert (no training)", "", "", "", "", baseline!.toFixed(2)]]
  console.log(table.map((r) => `| ${r.join(" | ")} |`).join("\n"))
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e)
  process.exit(1)
})
