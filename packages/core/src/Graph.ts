import * as fs from "node:fs/promises"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { Effect, Schema, SchemaIssue } from "effect"
import YAML from "yaml"
import { type GraphProblem, GraphValidationError } from "./GraphError.js"
import { GraphSpec, type NodeSpec } from "./GraphSpec.js"
import type { Registry } from "./Plugin.js"
import type { AnyStage } from "./Stage.js"

export interface InputEdge {
  readonly node: string
  readonly port: string
}

export interface ResolvedNode {
  readonly id: string
  readonly stage: AnyStage
  /** Params after decoding (defaults filled in). */
  readonly params: unknown
  /** Params encoded back to plain JSON: the canonical form that the cache key hashes. */
  readonly paramsJson: unknown
  /** One edge per input port; a list of edges for a fan-in (List) port. */
  readonly inputs: Readonly<Record<string, InputEdge | ReadonlyArray<InputEdge>>>
}

/** The edges of an input, whether it is a single or a fan-in port. */
export const edgesOf = (input: InputEdge | ReadonlyArray<InputEdge>): ReadonlyArray<InputEdge> =>
  Array.isArray(input) ? input : [input as InputEdge]

/** A graph whose stages, params, port types and acyclicity have all been checked. */
export interface Graph {
  readonly spec: GraphSpec
  readonly source: string
  /** Folder that relative paths in params resolve against. */
  readonly baseDir: string
  readonly seed: number
  /** In a topological order: every node after the nodes it reads from. */
  readonly nodes: ReadonlyArray<ResolvedNode>
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

const issuesOf = (error: unknown, prefix: string): Array<{ path: string; message: string }> => {
  if (Schema.isSchemaError(error)) {
    return formatter(error.issue).issues.map((i) => ({
      path: [prefix, ...(i.path ?? []).map((k) => String(typeof k === "object" ? (k as { key: PropertyKey }).key : k))]
        .filter((s) => s !== "")
        .join("."),
      message: i.message
    }))
  }
  return [{ path: prefix, message: String(error) }]
}

/** Reads a graph file: `.yaml`/`.yml`, `.json`, or a `.ts`/`.js`/`.mjs` module whose default export is the graph. */
export const readFile = (file: string): Effect.Effect<unknown, GraphValidationError> =>
  Effect.tryPromise({
    try: async () => {
      const ext = path.extname(file).toLowerCase()
      if (ext === ".ts" || ext === ".js" || ext === ".mjs" || ext === ".mts") {
        const mod = (await import(pathToFileURL(path.resolve(file)).href)) as { default?: unknown; graph?: unknown }
        return mod.default ?? mod.graph
      }
      const text = await fs.readFile(file, "utf8")
      // YAML merge keys (`<<: *anchor`) let graph variants share params.
      return ext === ".json" ? JSON.parse(text) : YAML.parse(text, { merge: true })
    },
    catch: (e) =>
      new GraphValidationError({
        source: file,
        problems: [{ kind: "syntax", path: "", message: e instanceof Error ? e.message : String(e) }]
      })
  })

const levenshtein = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = cur
    }
  }
  return row[b.length]!
}

const suggestion = (name: string, candidates: ReadonlyArray<string>): string => {
  const best = candidates
    .map((c) => ({ c, d: levenshtein(name, c) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(name.length / 3)))
    .sort((x, y) => x.d - y.d)[0]
  return best ? ` (did you mean '${best.c}'?)` : ""
}

/**
 * Checks a decoded graph file against the registry and reports every problem at once: structure,
 * duplicate ids, unknown stages, params, unknown/missing/dangling inputs, port type mismatches, cycles.
 */
export const validate = (
  raw: unknown,
  registry: Registry,
  options: { readonly source?: string; readonly baseDir?: string } = {}
): Effect.Effect<Graph, GraphValidationError> =>
  Effect.gen(function* () {
    const source = options.source ?? "graph"
    const problems: Array<GraphProblem> = []
    const decoded = Schema.decodeUnknownExit(GraphSpec)(raw, { errors: "all", onExcessProperty: "error" })
    if (decoded._tag === "Failure") {
      const error = decoded.cause.reasons.find((r) => r._tag === "Fail")
      const issues = error && "error" in error ? issuesOf(error.error, "") : [{ path: "", message: String(decoded.cause) }]
      return yield* new GraphValidationError({
        source,
        problems: issues.map((i) => ({ kind: "structure", path: i.path, message: i.message }))
      })
    }
    const spec = decoded.value
    const specById = new Map<string, NodeSpec>()
    const stages = new Map<string, AnyStage>()
    const resolved = new Map<string, ResolvedNode>()

    for (const node of spec.nodes) {
      if (specById.has(node.id)) {
        problems.push({ kind: "duplicate-node", nodeId: node.id, path: "id", message: `id '${node.id}' is used by more than one node` })
        continue
      }
      specById.set(node.id, node)
      const stage = registry.get(node.stage)
      if (!stage) {
        problems.push({
          kind: "unknown-stage",
          nodeId: node.id,
          path: "stage",
          message: `unknown stage '${node.stage}'${suggestion(node.stage, registry.stages().map((s) => s.name))}`
        })
        continue
      }
      stages.set(node.id, stage)
    }

    for (const node of spec.nodes) {
      const stage = stages.get(node.id)
      if (!stage || resolved.has(node.id)) continue
      // Params
      let params: unknown = undefined
      let paramsJson: unknown = undefined
      const decodedParams = Schema.decodeUnknownExit(stage.params)(node.params ?? {}, { errors: "all", onExcessProperty: "error" })
      if (decodedParams._tag === "Failure") {
        const reason = decodedParams.cause.reasons.find((r) => r._tag === "Fail")
        const issues = reason && "error" in reason ? issuesOf(reason.error, "params") : [{ path: "params", message: String(decodedParams.cause) }]
        const declared = Object.keys((stage.params as { fields?: object }).fields ?? {})
        for (const i of issues) {
          const message =
            i.message === "Expected no excess property"
              ? `unknown param; stage '${stage.name}' takes: ${declared.join(", ") || "(no params)"}`
              : i.message
          problems.push({ kind: "invalid-param", nodeId: node.id, path: i.path, message })
        }
      } else {
        params = decodedParams.value
        paramsJson = Schema.encodeSync(Schema.toCodecJson(stage.params as Schema.Codec<unknown>))(params)
      }
      // Inputs
      const inputs: Record<string, InputEdge | ReadonlyArray<InputEdge>> = {}
      const given = node.inputs ?? {}
      for (const [port, refOrRefs] of Object.entries(given)) {
        const expected = stage.inputs[port]
        if (!expected) {
          problems.push({
            kind: "unknown-input",
            nodeId: node.id,
            path: `inputs.${port}`,
            message: `stage '${stage.name}' has no input '${port}'; its inputs are: ${Object.keys(stage.inputs).join(", ") || "(none)"}`
          })
          continue
        }
        const isList = Array.isArray(refOrRefs)
        if (isList && !expected.element) {
          problems.push({
            kind: "type-mismatch",
            nodeId: node.id,
            path: `inputs.${port}`,
            message: `takes one ${expected.name}, but a list of ${refOrRefs.length} references is given`
          })
          continue
        }
        const refs: ReadonlyArray<string> = isList ? refOrRefs : [refOrRefs as string]
        const edges: Array<InputEdge> = []
        refs.forEach((ref, i) => {
          const at = isList ? `inputs.${port}.${i}` : `inputs.${port}`
          const want = isList ? expected.element! : expected
          const [fromId, fromPort] = ref.split(".") as [string, string]
          const fromSpec = specById.get(fromId)
          if (!fromSpec) {
            problems.push({
              kind: "dangling-input",
              nodeId: node.id,
              path: at,
              message: `refers to node '${fromId}', which does not exist${suggestion(fromId, [...specById.keys()])}`
            })
            return
          }
          const fromStage = stages.get(fromId)
          if (!fromStage) return // its unknown stage is already reported
          const produced = fromStage.outputs[fromPort]
          if (!produced) {
            problems.push({
              kind: "unknown-output",
              nodeId: node.id,
              path: at,
              message: `node '${fromId}' (${fromStage.name}) has no output '${fromPort}'; its outputs are: ${Object.keys(fromStage.outputs).join(", ")}`
            })
            return
          }
          if (produced.name !== want.name) {
            problems.push({ kind: "type-mismatch", nodeId: node.id, path: at, message: `expects ${want.name} but '${ref}' gives ${produced.name}` })
            return
          }
          edges.push({ node: fromId, port: fromPort })
        })
        if (edges.length === refs.length) inputs[port] = isList ? edges : edges[0]!
      }
      for (const port of Object.keys(stage.inputs)) {
        if (!(port in given) && !stage.optionalInputs.includes(port)) {
          problems.push({
            kind: "missing-input",
            nodeId: node.id,
            path: `inputs.${port}`,
            message: `required input '${port}' (${stage.inputs[port]!.name}) is not connected`
          })
        }
      }
      resolved.set(node.id, { id: node.id, stage, params, paramsJson, inputs })
    }

    const order = topologicalOrder(spec.nodes, problems)
    if (problems.length > 0) return yield* new GraphValidationError({ source, problems })
    return {
      spec,
      source,
      baseDir: options.baseDir ?? process.cwd(),
      seed: spec.seed ?? 0,
      nodes: order.map((id) => resolved.get(id)!)
    }
  })

/** Kahn's algorithm over the declared edges; nodes left over lie on a cycle, which is reported as a path. */
const topologicalOrder = (nodes: ReadonlyArray<NodeSpec>, problems: Array<GraphProblem>): Array<string> => {
  const ids = new Set(nodes.map((n) => n.id))
  const deps = new Map<string, Set<string>>()
  for (const n of nodes) {
    const from = new Set<string>()
    for (const refs of Object.values(n.inputs ?? {})) {
      for (const ref of Array.isArray(refs) ? refs : [refs as string]) {
        const id = ref.split(".")[0]!
        if (ids.has(id)) from.add(id)
      }
    }
    deps.set(n.id, from)
  }
  const order: Array<string> = []
  const done = new Set<string>()
  let progressed = true
  while (progressed) {
    progressed = false
    for (const n of nodes) {
      if (done.has(n.id)) continue
      if ([...deps.get(n.id)!].every((d) => done.has(d))) {
        done.add(n.id)
        order.push(n.id)
        progressed = true
      }
    }
  }
  const left = nodes.filter((n) => !done.has(n.id)).map((n) => n.id)
  if (left.length > 0) {
    // Walk dependencies from a leftover node until one repeats: that loop is the cycle.
    const seen: Array<string> = []
    let cur = left[0]!
    while (!seen.includes(cur)) {
      seen.push(cur)
      cur = [...deps.get(cur)!].find((d) => !done.has(d))!
    }
    const cycle = [...seen.slice(seen.indexOf(cur)), cur].reverse()
    problems.push({ kind: "cycle", nodeId: cur, path: "inputs", message: `cycle: ${cycle.join(" -> ")}` })
  }
  return order
}

/** Loads a graph file and validates it. */
export const load = (file: string, registry: Registry): Effect.Effect<Graph, GraphValidationError> =>
  Effect.flatMap(readFile(file), (raw) =>
    validate(raw, registry, { source: file, baseDir: path.dirname(path.resolve(file)) })
  )

/** The graph as a Mermaid flowchart (`dot: true` for Graphviz DOT). */
export const render = (graph: Graph, format: "mermaid" | "dot" = "mermaid"): string => {
  const lines: Array<string> = []
  if (format === "dot") {
    lines.push(`digraph "${graph.spec.name}" {`, "  rankdir=LR;")
    for (const n of graph.nodes) lines.push(`  "${n.id}" [shape=box,label="${n.id}\\n${n.stage.name}"];`)
    for (const n of graph.nodes) {
      for (const [port, input] of Object.entries(n.inputs)) {
        for (const e of edgesOf(input)) lines.push(`  "${e.node}" -> "${n.id}" [label="${e.port} → ${port}"];`)
      }
    }
    lines.push("}")
  } else {
    lines.push("flowchart LR")
    for (const n of graph.nodes) lines.push(`  ${n.id}["${n.id}<br/><small>${n.stage.name}</small>"]`)
    for (const n of graph.nodes) {
      for (const [port, input] of Object.entries(n.inputs)) {
        const type = n.stage.inputs[port]!.name
        for (const e of edgesOf(input)) lines.push(`  ${e.node} -- "${e.port} → ${port} (${type})" --> ${n.id}`)
      }
    }
  }
  return lines.join("\n")
}
