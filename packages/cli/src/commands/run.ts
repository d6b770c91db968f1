import * as path from "node:path"
import { Effect } from "effect"
import { layerFileSystem, type RunEventListener, Runner } from "@embedflow/core"
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

export const run = (file: string, options: RunCommandOptions) =>
  Effect.gen(function* () {
    const { graph, registry } = yield* loadGraph(file)
    const result = yield* Runner.run(graph, {
      force: options.force,
      concurrency: options.concurrency,
      listeners: options.listeners,
      layer: registry.layer()
    }).pipe(Effect.provide(layerFileSystem(path.resolve(options.store))))
    return result
  })
