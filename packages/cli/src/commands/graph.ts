import { Effect } from "effect"
import { Graph } from "@embedflow/core"
import { loadGraph } from "./validate.js"

export const graph = (file: string, format: "mermaid" | "dot") =>
  Effect.map(loadGraph(file), (graph) => Graph.render(graph, format))
