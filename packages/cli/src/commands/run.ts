import * as path from "node:path"
import { Effect } from "effect"
import { ArtifactStore, layerFileSystem, Plan, type RunEventListener, Runner } from "@embedflow/core"
import { loadGraph } from "./validate.js"

export interface RunCommandOptions {
  readonly store: string
  readonly force: boolean
  readonly concurrency?: number | undefined
  readonly listeners: ReadonlyArray<RunEventListener>
}

/** Markdown tables of the run's Report outputs (a report carries one in its `markdown` field). */
export const reportsOf = (result: Runner.RunResult): Array<{ nodeId: string; markdown: string }> =>
  Object.entries(result.nodes).flatMap(([nodeId, node]) =>
    Object.values(node.outputs).flatMap((v) => {
      const markdown = (v as { markdown?: unknown } | null)?.markdown
      return typeof markdown === "string" ? [{ nodeId, markdown }] : []
    })
  )

export class UnknownNodeError extends Error {}

/** load → validate → plan → execute → store. */
export const run = (file: string, options: RunCommandOptions) =>
  Effect.gen(function* () {
    const graph = yield* loadGraph(file)
    return yield* Runner.run(graph, {
      force: options.force,
      concurrency: options.concurrency,
      listeners: options.listeners
    }).pipe(Effect.provide(layerFileSystem(path.resolve(options.store))))
  })

/** `run --dry-run` (the plan: keys, what is cached, what runs) or `run --explain <node>` (what went into its key). */
export const plan = (file: string, options: { readonly store: string; readonly force: boolean; readonly explain?: string | undefined }) =>
  Effect.gen(function* () {
    const graph = yield* loadGraph(file)
    const planned = yield* Plan.make(graph).pipe(Effect.provide(layerFileSystem(path.resolve(options.store))))
    if (options.explain === undefined) return Plan.format(planned, { force: options.force })
    const text = Plan.explain(planned, options.explain)
    if (text === undefined) {
      return yield* Effect.fail(new UnknownNodeError(`--explain: no node '${options.explain}' in ${file}; nodes: ${graph.nodes.map((n) => n.id).join(", ")}`))
    }
    return text
  })

const mib = (bytes: number) => `${(bytes / (1 << 20)).toFixed(1)} MiB`

/** `embedflow gc [--keep-runs N]`: removes entries no kept run references, and leftovers of dead runs. */
export const gc = (options: { readonly store: string; readonly keepRuns?: number | undefined }) =>
  Effect.gen(function* () {
    const store = yield* ArtifactStore
    const r = yield* store.gc({ keepRuns: options.keepRuns })
    return [
      `store ${store.root}: ${mib(r.bytesBefore)} before, ${mib(r.bytesAfter)} after`,
      `  runs: ${r.runsKept} kept, ${r.runsRemoved} removed; entries: ${r.entriesKept} kept, ${r.entriesRemoved} removed; leftovers of dead runs: ${r.leftoversRemoved} removed`
    ].join("\n")
  }).pipe(Effect.provide(layerFileSystem(path.resolve(options.store))))
