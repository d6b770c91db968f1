import * as fs from "node:fs/promises"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { Effect, Schema, SchemaIssue } from "effect"
import YAML from "yaml"
import { type GraphProblem, GraphValidationError } from "./GraphError.js"
import { GraphSpec, NodeSpec } from "./GraphSpec.js"
import { type Plugin, pluginOf, recordModule, Registry } from "./Plugin.js"
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
  /** The stages the graph was checked against, including its own `plugins:`; the runner builds their layers. */
  readonly registry: Registry
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

/** Imports a module by URL; the CLI passes one that also loads TypeScript where the runtime does not strip types (through tsx). */
export type ImportModule = (url: string) => Promise<unknown>

const nativeImport: ImportModule = (url) => import(url)

const importError = (e: unknown, what: string): string => {
  const message = e instanceof Error ? e.message : String(e)
  return (e as { code?: string })?.code === "ERR_UNKNOWN_FILE_EXTENSION"
    ? `${message} (${what} in TypeScript needs Node >= 22.18, Bun or Deno, or the embedflow CLI, which loads it through tsx)`
    : message
}

export interface ReadOptions {
  /** How `.ts`/`.js` graph files and plugin modules are imported (default: the runtime's `import()`). */
  readonly importModule?: ImportModule | undefined
}

/** Reads a graph file: `.yaml`/`.yml`, `.json`, or a `.ts`/`.js`/`.mjs` module whose default export is the graph. */
export const readFile = (file: string, options: ReadOptions = {}): Effect.Effect<unknown, GraphValidationError> =>
  Effect.tryPromise({
    try: async () => {
      const ext = path.extname(file).toLowerCase()
      if (ext === ".ts" || ext === ".js" || ext === ".mjs" || ext === ".mts") {
        let mod: { default?: unknown; graph?: unknown }
        try {
          mod = (await (options.importModule ?? nativeImport)(pathToFileURL(path.resolve(file)).href)) as typeof mod
        } catch (e) {
          throw new Error(importError(e, "a graph file"))
        }
        const graph = mod.default ?? mod.graph
        if (graph === undefined) throw new Error("the module exports no graph (expected `export default { name, nodes }`)")
        return graph
      }
      const text = await fs.readFile(file, "utf8")
      // YAML merge keys (`<<: *anchor`) let graph variants share params.
      return ext === ".json" ? JSON.parse(text) : YAML.parse(text, { merge: true })
    },
    catch: (e) => {
      // A YAML error's excerpt is indented under its first line, so it cannot pass for a problem line.
      const [first, ...excerpt] = (e instanceof Error ? e.message : String(e)).split("\n")
      const message = [first, ...excerpt.filter((l) => l.trim() !== "").map((l) => `      ${l}`)].join("\n")
      return new GraphValidationError({ source: file, problems: [{ kind: "syntax", path: "", message }] })
    }
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

/** "Did you mean" hints cost a scan of every candidate; beyond this many per graph they are left out. */
const maxSuggestions = 20

const suggester = () => {
  let left = maxSuggestions
  return (name: string, candidates: () => Iterable<string>): string => {
    if (left <= 0) return ""
    left--
    const limit = Math.max(2, Math.floor(name.length / 3))
    let best: { c: string; d: number } | undefined
    for (const c of candidates()) {
      if (Math.abs(c.length - name.length) > limit) continue
      const d = levenshtein(name, c)
      if (d <= limit && (!best || d < best.d)) best = { c, d }
    }
    return best ? ` (did you mean '${best.c}'?)` : ""
  }
}

/** The top level of a graph file; nodes are decoded one by one so that one bad node hides nothing. */
const GraphShape = Schema.Struct({
  name: GraphSpec.fields.name,
  description: GraphSpec.fields.description,
  seed: GraphSpec.fields.seed,
  plugins: GraphSpec.fields.plugins,
  nodes: Schema.Array(Schema.Unknown)
})

const decodeIssues = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, value: unknown, prefix: string) => {
  const decoded = Schema.decodeUnknownExit(schema)(value, { errors: "all", onExcessProperty: "error" })
  if (decoded._tag === "Success") return { value: decoded.value as S["Type"], issues: [] }
  const reason = decoded.cause.reasons.find((r) => r._tag === "Fail")
  return {
    value: undefined,
    issues: reason && "error" in reason ? issuesOf(reason.error, prefix) : [{ path: prefix, message: String(decoded.cause) }]
  }
}

/** Decodes the graph's top level and each node on its own; problems name the node by id when it has one. */
const decodeStructure = (raw: unknown, problems: Array<GraphProblem>) => {
  const top = decodeIssues(GraphShape, raw, "")
  for (const i of top.issues) if (!/^nodes\.\d+/.test(i.path)) problems.push({ kind: "structure", path: i.path, message: i.message })
  const rawNodes: ReadonlyArray<unknown> = Array.isArray((raw as { nodes?: unknown } | null)?.nodes) ? (raw as { nodes: Array<unknown> }).nodes : []
  const nodes: Array<NodeSpec> = []
  const broken = new Set<string>()
  rawNodes.forEach((rawNode, index) => {
    const id = (rawNode as { id?: unknown } | null)?.id
    const named = typeof id === "string" && id !== ""
    const node = decodeIssues(NodeSpec, rawNode, named ? "" : `nodes.${index}`)
    if (node.value) return void nodes.push(node.value)
    if (named) broken.add(id)
    for (const i of node.issues) problems.push({ kind: "structure", nodeId: named ? id : undefined, path: i.path, message: i.message })
  })
  const fields = top.value ?? ((raw ?? {}) as Partial<GraphSpec>)
  return { fields, nodes, broken }
}

/**
 * Checks a decoded graph file against the registry and reports every problem at once: structure (per
 * node), duplicate ids, unknown stages, params, unknown/missing/dangling inputs, port type mismatches,
 * and every cycle. Linear in the size of the graph.
 */
export const validate = (
  raw: unknown,
  registry: Registry,
  options: { readonly source?: string; readonly baseDir?: string; readonly problems?: ReadonlyArray<GraphProblem> } = {}
): Effect.Effect<Graph, GraphValidationError> =>
  Effect.gen(function* () {
    const source = options.source ?? "graph"
    const problems: Array<GraphProblem> = [...(options.problems ?? [])]
    const suggestion = suggester()
    const { fields, nodes, broken } = decodeStructure(raw, problems)
    const specById = new Map<string, NodeSpec>()
    const stages = new Map<string, AnyStage>()
    const resolved = new Map<string, ResolvedNode>()

    for (const node of nodes) {
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
          message: `unknown stage '${node.stage}'${suggestion(node.stage, () => registry.stages().map((s) => s.name))}`
        })
        continue
      }
      stages.set(node.id, stage)
    }

    for (const node of nodes) {
      const stage = stages.get(node.id)
      if (!stage || resolved.has(node.id)) continue
      // Params
      let params: unknown = undefined
      let paramsJson: unknown = undefined
      const decodedParams = decodeIssues(stage.params as Schema.Codec<unknown>, node.params ?? {}, "params")
      if (decodedParams.value === undefined && decodedParams.issues.length > 0) {
        const declared = Object.keys((stage.params as { fields?: object }).fields ?? {})
        for (const i of decodedParams.issues) {
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
            if (broken.has(fromId)) return // that node's own problems are reported
            problems.push({
              kind: "dangling-input",
              nodeId: node.id,
              path: at,
              message: `refers to node '${fromId}', which does not exist${suggestion(fromId, () => specById.keys())}`
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

    const order = topologicalOrder([...specById.values()], problems)
    if (problems.length > 0) return yield* new GraphValidationError({ source, problems })
    return {
      spec: { ...(fields as GraphSpec), nodes } as GraphSpec,
      source,
      baseDir: options.baseDir ?? process.cwd(),
      seed: fields.seed ?? 0,
      nodes: order.map((id) => resolved.get(id)!),
      registry
    }
  })

/** Strongly connected components (Tarjan, iterative so that a 10k-node chain does not overflow the stack). */
const stronglyConnected = (ids: ReadonlyArray<string>, next: (id: string) => ReadonlyArray<string>): Array<Array<string>> => {
  let counter = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: Array<string> = []
  const components: Array<Array<string>> = []
  const visit = (v: string) => {
    index.set(v, counter)
    low.set(v, counter++)
    stack.push(v)
    onStack.add(v)
  }
  for (const root of ids) {
    if (index.has(root)) continue
    visit(root)
    const work: Array<{ v: string; i: number }> = [{ v: root, i: 0 }]
    while (work.length > 0) {
      const frame = work[work.length - 1]!
      const succ = next(frame.v)
      if (frame.i < succ.length) {
        const w = succ[frame.i++]!
        if (!index.has(w)) {
          visit(w)
          work.push({ v: w, i: 0 })
        } else if (onStack.has(w)) low.set(frame.v, Math.min(low.get(frame.v)!, index.get(w)!))
        continue
      }
      work.pop()
      const parent = work[work.length - 1]
      if (parent) low.set(parent.v, Math.min(low.get(parent.v)!, low.get(frame.v)!))
      if (low.get(frame.v) === index.get(frame.v)) {
        const component: Array<string> = []
        let w: string
        do {
          w = stack.pop()!
          onStack.delete(w)
          component.push(w)
        } while (w !== frame.v)
        components.push(component)
      }
    }
  }
  return components
}

/** A shortest loop from `start` back to itself through `within` (breadth-first). */
const loopThrough = (start: string, within: ReadonlySet<string>, next: (id: string) => ReadonlyArray<string>): Array<string> => {
  const parent = new Map<string, string>()
  const queue = [start]
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head]!
    for (const w of next(v)) {
      if (!within.has(w)) continue
      if (w === start) {
        const chain: Array<string> = []
        for (let u = v; u !== start; u = parent.get(u)!) chain.push(u)
        return [start, ...chain.reverse(), start]
      }
      if (!parent.has(w)) {
        parent.set(w, v)
        queue.push(w)
      }
    }
  }
  return [start, start]
}

/**
 * Kahn's algorithm over the declared edges, O(nodes + edges). Nodes left over lie on or behind a
 * cycle: every cycle (each strongly connected component with a loop) is reported as a path.
 */
const topologicalOrder = (nodes: ReadonlyArray<NodeSpec>, problems: Array<GraphProblem>): Array<string> => {
  const position = new Map(nodes.map((n, i) => [n.id, i]))
  const consumers = new Map<string, Array<string>>(nodes.map((n) => [n.id, []]))
  const waiting = new Map<string, number>()
  for (const n of nodes) {
    const from = new Set<string>()
    for (const refs of Object.values(n.inputs ?? {})) {
      for (const ref of Array.isArray(refs) ? refs : [refs as string]) {
        const id = ref.split(".")[0]!
        if (position.has(id)) from.add(id)
      }
    }
    for (const id of from) consumers.get(id)!.push(n.id)
    waiting.set(n.id, from.size)
  }
  const order: Array<string> = nodes.filter((n) => waiting.get(n.id) === 0).map((n) => n.id)
  for (let head = 0; head < order.length; head++) {
    for (const c of consumers.get(order[head]!)!) {
      const left = waiting.get(c)! - 1
      waiting.set(c, left)
      if (left === 0) order.push(c)
    }
  }
  if (order.length < nodes.length) {
    const left = nodes.filter((n) => waiting.get(n.id)! > 0).map((n) => n.id)
    const next = (id: string) => consumers.get(id)!
    for (const component of stronglyConnected(left, next)) {
      const members = new Set(component)
      const start = component.reduce((a, b) => (position.get(a)! <= position.get(b)! ? a : b))
      if (component.length === 1 && !next(start).includes(start)) continue // only behind a cycle
      const loop = loopThrough(start, members, next)
      problems.push({ kind: "cycle", nodeId: start, path: "inputs", message: `cycle: ${loop.join(" -> ")}` })
    }
  }
  return order
}

/** The `plugins:` of a graph file, imported relative to the file; every bad entry is a problem at `plugins.N`. */
const loadGraphPlugins = async (
  raw: unknown,
  baseDir: string,
  registry: Registry,
  importModule: ImportModule
): Promise<{ registry: Registry; problems: Array<GraphProblem> }> => {
  const list = (raw as { plugins?: unknown } | null)?.plugins
  if (!Array.isArray(list)) return { registry, problems: [] } // a non-list is a structure problem
  const problems: Array<GraphProblem> = []
  const plugins: Array<Plugin> = [...registry.plugins]
  const owner = new Map<string, string>()
  for (const p of plugins) for (const s of p.stages) owner.set(s.name, p.name)
  for (const [i, entry] of list.entries()) {
    const at = `plugins.${i}`
    if (typeof entry !== "string" || entry === "") continue // reported by the structure check
    const specifier = entry.startsWith(".") || path.isAbsolute(entry) ? pathToFileURL(path.resolve(baseDir, entry)).href : entry
    let plugin: Plugin
    try {
      plugin = recordModule(pluginOf(await importModule(specifier), entry), specifier)
    } catch (e) {
      problems.push({ kind: "plugin", path: at, message: `cannot load plugin '${entry}': ${importError(e, "a plugin")}` })
      continue
    }
    if (plugins.includes(plugin)) continue // the same plugin twice (built in and named) loads once
    const clash = plugin.stages.find((s) => owner.has(s.name))
    if (clash) {
      problems.push({ kind: "plugin", path: at, message: `plugin '${plugin.name}' provides stage '${clash.name}', which plugin '${owner.get(clash.name)}' provides too` })
      continue
    }
    for (const s of plugin.stages) owner.set(s.name, plugin.name)
    plugins.push(plugin)
  }
  return { registry: new Registry(plugins), problems }
}

export interface LoadOptions extends ReadOptions {}

/**
 * Loads a graph file: reads it, loads the plugins it names (`plugins:`, relative to the file) on top
 * of `registry`, and validates it. Every problem, plugin entries included, is reported at once.
 */
export const load = (file: string, registry: Registry, options: LoadOptions = {}): Effect.Effect<Graph, GraphValidationError> =>
  Effect.gen(function* () {
    const raw = yield* readFile(file, options)
    const baseDir = path.dirname(path.resolve(file))
    const loaded = yield* Effect.promise(() => loadGraphPlugins(raw, baseDir, registry, options.importModule ?? nativeImport))
    return yield* validate(raw, loaded.registry, { source: file, baseDir, problems: loaded.problems })
  })

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
