import { Effect } from "effect"
import { Command } from "effect/cli"
import { Graph, type GraphValidationError } from "@embedflow/core"
import { importModule } from "../importModule.js"
import { graphFile, graphParams } from "../internal/options.js"
import { loadRegistry } from "../loadPlugins.js"
import { printOut } from "../Session.js"

/**
 * Reads a graph file, loads the plugins it names on top of the built-in ones, and validates it: every
 * problem (bad `plugins:` entries included) is reported at once.
 */
export const loadGraph = (file: string): Effect.Effect<Graph.Graph, GraphValidationError> =>
  Effect.gen(function* () {
    const builtIn = yield* Effect.promise(() => loadRegistry())
    return yield* Graph.load(file, builtIn, { importModule })
  })

export const validate = (file: string) =>
  Effect.gen(function* () {
    const graph = yield* loadGraph(file)
    const edges = graph.nodes.reduce((n, node) => n + Object.keys(node.inputs).length, 0)
    return `${file}: valid (${graph.nodes.length} nodes, ${edges} edges; order: ${graph.nodes.map((n) => n.id).join(" → ")})`
  })

/** `embedflow validate <graph>`: every problem at once, nothing run. */
export const validateCommand = Command.make("validate", graphParams, (input) =>
  Effect.flatMap(graphFile("validate", input), (file) => Effect.flatMap(validate(file), printOut))
).pipe(
  Command.withDescription("Checks a graph (its plugins, stages, params and edges) and reports every problem at once; runs nothing. Exits 2 if the graph is invalid."),
  Command.withShortDescription("check a graph, run nothing"),
  Command.validate((input) => Effect.asVoid(graphFile("validate", input)))
)
