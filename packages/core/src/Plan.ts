import * as path from "node:path"
import { Effect, SchemaAST } from "effect"
import { ArtifactStore } from "./ArtifactStore.js"
import { edgesOf, type Graph, type ResolvedNode } from "./Graph.js"
import type { ContentDigest } from "./internal/contentHash.js"
import { canonicalJson, deriveSeed, sha256Hex } from "./internal/canonicalJson.js"
import { pathAnnotation } from "./Params.js"

/** Everything that goes into a node's cache key; `embedflow run --explain <node>` prints it. */
export interface KeyIngredients {
  readonly stage: string
  readonly version: string
  readonly params: unknown
  readonly seed: number
  /** `port → <upstream key>/<port>` (comma-joined for a fan-in port). */
  readonly inputs: Readonly<Record<string, string>>
  /** The content of every file and folder the node reads. */
  readonly reads: ReadonlyArray<ContentDigest>
}

export interface PlannedNode {
  readonly node: ResolvedNode
  /** "" when the node cannot be planned (see `failure`). */
  readonly key: string
  readonly ingredients: KeyIngredients | undefined
  /** An entry for the key is in the store (verified when it is read). */
  readonly cached: boolean
  /** Why no key could be computed (a file that cannot be read, a missing data root). */
  readonly failure?: string | undefined
}

/** What a run will do: each node's key, whether it is cached, and so whether it runs. */
export interface Plan {
  readonly graph: Graph
  /** In the graph's topological order. */
  readonly nodes: ReadonlyArray<PlannedNode>
}

type PathKind = "file" | "folder"

/** The top-level params whose schema carries `Params.filePath`/`Params.folderPath`, with their values. */
export const declaredPaths = (node: ResolvedNode): Array<{ param: string; kind: PathKind; value: string }> => {
  const ast = node.stage.params.ast as SchemaAST.AST
  if (ast._tag !== "Objects") return []
  const out: Array<{ param: string; kind: PathKind; value: string }> = []
  const values = (node.params ?? {}) as Record<string, unknown>
  const kindOf = (a: SchemaAST.AST) => SchemaAST.resolveAt<PathKind>(pathAnnotation)(a)
  for (const ps of ast.propertySignatures) {
    const param = String(ps.name)
    const value = values[param]
    const direct = kindOf(ps.type)
    if (direct && typeof value === "string") out.push({ param, kind: direct, value })
    if (ps.type._tag === "Arrays" && Array.isArray(value)) {
      const element = ps.type.rest[0]
      const kind = element ? kindOf(element) : undefined
      if (kind) value.forEach((v, i) => typeof v === "string" && out.push({ param: `${param}.${i}`, kind, value: v }))
    }
  }
  return out
}

const keyOf = (ingredients: KeyIngredients): string =>
  sha256Hex(
    canonicalJson({
      ...ingredients,
      reads: ingredients.reads.map((r) => ({ path: r.path, kind: r.kind, sha256: r.sha256 }))
    })
  )

const messageOf = (e: { readonly message: string }) => e.message

/**
 * Plans a run: every node's key from its stage name and version, params, seed, input keys and the
 * content of the files and folders it reads (hashed once, memoised in the store), and whether the
 * store holds it.
 */
export const make = (graph: Graph): Effect.Effect<Plan, never, ArtifactStore> =>
  Effect.gen(function* () {
    const store = yield* ArtifactStore
    const resolvePath = (p: string) => path.resolve(graph.baseDir, p)
    const planned = new Map<string, PlannedNode>()
    const nodes: Array<PlannedNode> = []
    for (const node of graph.nodes) {
      const failed = (failure: string): PlannedNode => ({ node, key: "", ingredients: undefined, cached: false, failure })
      const inputs: Record<string, string> = {}
      let upstreamFailure: string | undefined
      for (const [port, input] of Object.entries(node.inputs)) {
        const refs = edgesOf(input).map((e) => {
          const from = planned.get(e.node)!
          if (from.failure !== undefined) upstreamFailure ??= `input '${port}' comes from node '${e.node}', which cannot be planned`
          return `${from.key}/${e.port}`
        })
        inputs[port] = refs.join(",")
      }
      const result: PlannedNode = yield* Effect.gen(function* () {
        if (upstreamFailure !== undefined) return failed(upstreamFailure)
        const paths = declaredPaths(node).map((p) => resolvePath(p.value))
        if (node.stage.reads) paths.push(...(yield* node.stage.reads(node.params, { resolvePath })))
        const reads: Array<ContentDigest> = []
        for (const p of [...new Set(paths)].sort()) reads.push(yield* store.hashPath(p))
        const ingredients: KeyIngredients = {
          stage: node.stage.name,
          version: node.stage.version,
          params: node.paramsJson,
          seed: deriveSeed(graph.seed, node.id),
          inputs,
          reads
        }
        const key = keyOf(ingredients)
        return { node, key, ingredients, cached: yield* store.has(key) }
      }).pipe(Effect.catch((e) => Effect.succeed(failed(messageOf(e)))))
      planned.set(node.id, result)
      nodes.push(result)
    }
    return { graph, nodes }
  })

/** The plan as a table: node, stage, key prefix, and what happens (cached / runs / cannot plan). */
export const format = (plan: Plan, options: { readonly force?: boolean } = {}): string => {
  const rows = plan.nodes.map((n) => {
    const what = n.failure !== undefined ? `cannot plan: ${n.failure}` : n.cached && !options.force ? "cached" : "runs"
    return `  ${n.node.id.padEnd(24)} ${n.node.stage.name.padEnd(36)} ${(n.key.slice(0, 12) || "-").padEnd(12)}  ${what}`
  })
  const runs = plan.nodes.filter((n) => n.failure === undefined && (!n.cached || options.force)).length
  const cached = plan.nodes.filter((n) => n.failure === undefined && n.cached && !options.force).length
  return [`plan for '${plan.graph.spec.name}': ${plan.nodes.length} nodes, ${runs} to run, ${cached} cached`, ...rows].join("\n")
}

const humanBytes = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`)

/** What went into one node's key, line by line. */
export const explain = (plan: Plan, nodeId: string): string | undefined => {
  const n = plan.nodes.find((p) => p.node.id === nodeId)
  if (!n) return undefined
  if (!n.ingredients) return `node '${nodeId}' (${n.node.stage.name}): cannot plan: ${n.failure}`
  const i = n.ingredients
  const lines = [
    `node '${nodeId}': key ${n.key}${n.cached ? " (cached)" : ""}`,
    `  stage:   ${i.stage}@${i.version}`,
    `  seed:    ${i.seed}`,
    `  params:  ${canonicalJson(i.params)}`,
    ...Object.entries(i.inputs).map(([port, ref]) => `  input ${port}: ${ref}`),
    ...i.reads.map((r) =>
      r.kind === "absent"
        ? `  reads ${r.path}: not a local path (keyed by name only)`
        : `  reads ${r.kind} ${r.path}: sha256 ${r.sha256} (${r.files} file${r.files === 1 ? "" : "s"}, ${humanBytes(r.bytes)})`
    )
  ]
  if (i.reads.length === 0) lines.push("  reads:   no files")
  return lines.join("\n")
}
