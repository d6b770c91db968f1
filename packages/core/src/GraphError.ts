import { Data } from "effect"

/** One thing wrong with a graph, located by node id and a field path such as `params.k1`. */
export interface GraphProblem {
  readonly kind:
    | "syntax"
    | "structure"
    | "duplicate-node"
    | "unknown-stage"
    | "invalid-param"
    | "unknown-input"
    | "missing-input"
    | "dangling-input"
    | "unknown-output"
    | "type-mismatch"
    | "cycle"
    | "plugin"
  readonly nodeId?: string | undefined
  readonly path: string
  readonly message: string
}

export const formatProblem = (p: GraphProblem): string =>
  `${p.nodeId ? `node '${p.nodeId}'` : "graph"}${p.path ? ` at ${p.path}` : ""}: ${p.message}`

/** Every problem found in a graph, reported together so a user fixes them in one pass. */
export class GraphValidationError extends Data.TaggedError("GraphValidationError")<{
  readonly source: string
  readonly problems: ReadonlyArray<GraphProblem>
}> {
  override get message(): string {
    const n = this.problems.length
    return `${this.source}: ${n} problem${n === 1 ? "" : "s"}\n${this.problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}`
  }
}
