import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { Graph } from "@embedflow/core"
import { graphFile, graphParams } from "../internal/options.js"
import { printOut } from "../Session.js"
import { loadGraph } from "./validate.js"

export const graph = (file: string, format: "mermaid" | "dot") =>
  Effect.map(loadGraph(file), (graph) => Graph.render(graph, format))

/** `embedflow graph <graph> [--format mermaid|dot]`. */
export const graphCommand = Command.make(
  "graph",
  {
    ...graphParams,
    format: Flag.Literals("format", ["mermaid", "dot"]).pipe(Flag.withDescription("Mermaid, or Graphviz dot"), Flag.withDefault("mermaid"))
  },
  (input) => Effect.flatMap(graphFile("graph", input), (file) => Effect.flatMap(graph(file, input.format), printOut))
).pipe(
  Command.withDescription("Prints a graph's DAG as Mermaid or Graphviz dot."),
  Command.withShortDescription("draw a graph (Mermaid or dot)"),
  Command.validate((input) => Effect.asVoid(graphFile("graph", input))),
  Command.withExamples([{ command: "embedflow graph my-graph.yaml --format dot | dot -Tpng > graph.png" }])
)
