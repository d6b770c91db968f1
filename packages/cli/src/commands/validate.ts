import * as path from "node:path"
import { Effect } from "effect"
import { Graph, type GraphValidationError, type Plugin } from "@embedflow/core"
import { loadRegistry, pluginsOf } from "../loadPlugins.js"

/** Reads, resolves and validates a graph file: every problem is reported at once. */
export const loadGraph = (
  file: string
): Effect.Effect<{ graph: Graph.Graph; registry: Plugin.Registry }, GraphValidationError> =>
  Effect.gen(function* () {
    const raw = yield* Graph.readFile(file)
    const baseDir = path.dirname(path.resolve(file))
    const registry = yield* Effect.promise(() => loadRegistry(pluginsOf(raw), baseDir))
    const graph = yield* Graph.validate(raw, registry, { source: file, baseDir })
    return { graph, registry }
  })

export const validate = (file: string) =>
  Effect.gen(function* () {
    const { graph } = yield* loadGraph(file)
    const edges = graph.nodes.reduce((n, node) => n + Object.keys(node.inputs).length, 0)
    return `${file}: valid (${graph.nodes.length} nodes, ${edges} edges; order: ${graph.nodes.map((n) => n.id).join(" → ")})`
  })
