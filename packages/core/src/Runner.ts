import { appendFileSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Cause, Data, Deferred, Effect, Layer, Schema } from "effect"
import { ArtifactStore, type Manifest } from "./ArtifactStore.js"
import { edgesOf, type Graph, type ResolvedNode } from "./Graph.js"
import { canonicalJson, deriveSeed, sha256Hex } from "./internal/canonicalJson.js"
import type { RunEvent, RunEventListener } from "./RunEvent.js"
import type { Ports } from "./Stage.js"
import { StageContext } from "./StageContext.js"
import { StageError } from "./StageError.js"

export interface NodeFailure {
  readonly nodeId: string
  readonly message: string
  /** True when the node did not run because a node it reads from failed. */
  readonly skipped: boolean
}

export class RunFailedError extends Data.TaggedError("RunFailedError")<{
  readonly runDir: string
  readonly failures: ReadonlyArray<NodeFailure>
}> {
  override get message(): string {
    return `run failed (log: ${path.join(this.runDir, "run.jsonl")})\n${this.failures
      .map((f) => `  - node '${f.nodeId}'${f.skipped ? " (skipped)" : ""}: ${f.message}`)
      .join("\n")}`
  }
}

export interface RunOptions {
  /** Where run.jsonl, graph.json and the outputs/ links go; default `<store>/runs/<graph>/<time>`. */
  readonly runDir?: string
  /** How many nodes may run at once (default: unbounded; only independent nodes overlap). */
  readonly concurrency?: number | "unbounded"
  /** Recompute every node even when its outputs are cached. */
  readonly force?: boolean
  readonly listeners?: ReadonlyArray<RunEventListener>
  /** Services the stages need (the plugins' layers); built once, released when the run ends. */
  readonly layer?: Layer.Layer<any, any, never>
  /** Minimum milliseconds between two progress events of one node. */
  readonly progressIntervalMs?: number
}

export interface NodeResult {
  readonly key: string
  readonly cached: boolean
  readonly dir: string
  readonly outputs: Readonly<Record<string, unknown>>
}

export interface RunResult {
  readonly runId: string
  readonly runDir: string
  readonly nodes: Readonly<Record<string, NodeResult>>
}

/**
 * The cache key of every node: a hash of its stage name and version, its canonical params, its seed,
 * and the keys of the outputs it reads. Equal keys mean equal work, so a finished key is never redone.
 */
export const cacheKeys = (graph: Graph): ReadonlyMap<string, string> => {
  const keys = new Map<string, string>()
  for (const node of graph.nodes) {
    const inputs: Record<string, string> = {}
    for (const [port, input] of Object.entries(node.inputs)) {
      const refs = edgesOf(input).map((e) => `${keys.get(e.node)!}/${e.port}`)
      inputs[port] = Array.isArray(input) ? refs.join(",") : refs[0]!
    }
    keys.set(
      node.id,
      sha256Hex(
        canonicalJson({
          stage: node.stage.name,
          version: node.stage.version,
          params: node.paramsJson,
          seed: deriveSeed(graph.seed, node.id),
          inputs
        })
      )
    )
  }
  return keys
}

const now = () => new Date().toISOString()

const messageOf = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  if (error instanceof StageError) return error.message
  if (Schema.isSchemaError(error)) return error.message
  if (error instanceof Error) return error.message || error.name
  return typeof error === "object" && error && "message" in error ? String(error.message) : String(error)
}

/**
 * Runs a validated graph: nodes in topological order, independent ones concurrently, each either
 * loaded from the artifact store (its key is there) or computed and stored atomically. When a node
 * fails, nodes that do not depend on it still finish, so the next run resumes with all of them.
 */
export const run = (graph: Graph, options: RunOptions = {}): Effect.Effect<RunResult, RunFailedError, ArtifactStore> =>
  Effect.gen(function* () {
    const store = yield* ArtifactStore
    const runId = `${now().replace(/[:.]/g, "-")}-${Math.floor(performance.now() * 1000) % 1_000_000}`
    const runDir = path.resolve(options.runDir ?? path.join(store.root, "runs", graph.spec.name, runId))
    yield* Effect.promise(() => fs.mkdir(path.join(runDir, "outputs"), { recursive: true }))
    yield* Effect.promise(() => fs.writeFile(path.join(runDir, "graph.json"), JSON.stringify(graph.spec, null, 2)))
    const logFile = path.join(runDir, "run.jsonl")
    const listeners: Array<RunEventListener> = [
      // Appended synchronously, so the log is complete up to the moment a run is killed.
      (e) => appendFileSync(logFile, JSON.stringify(e) + "\n"),
      ...(options.listeners ?? [])
    ]
    const emit = (event: RunEvent) => Effect.sync(() => listeners.forEach((l) => l(event)))

    const keys = cacheKeys(graph)
    const outputs = new Map<string, Deferred.Deferred<Readonly<Record<string, unknown>>, NodeFailure>>()
    for (const node of graph.nodes) outputs.set(node.id, yield* Deferred.make<Readonly<Record<string, unknown>>, NodeFailure>())
    const results: Record<string, NodeResult> = {}
    const failures: Array<NodeFailure> = []
    const started = performance.now()

    yield* emit({ type: "run-started", time: now(), runId, graph: graph.spec.name, nodes: graph.nodes.length })

    const processNode = (node: ResolvedNode) =>
      Effect.gen(function* () {
        const key = keys.get(node.id)!
        const deferred = outputs.get(node.id)!
        const inputs: Record<string, unknown> = {}
        for (const [port, input] of Object.entries(node.inputs)) {
          const values: Array<unknown> = []
          for (const edge of edgesOf(input)) {
            const upstream = yield* Effect.exit(Deferred.await(outputs.get(edge.node)!))
            if (upstream._tag === "Failure") {
              const failure: NodeFailure = { nodeId: node.id, message: `not run: input '${port}' comes from failed node '${edge.node}'`, skipped: true }
              failures.push(failure)
              yield* emit({ type: "node-failed", time: now(), nodeId: node.id, error: failure.message, skipped: true })
              return yield* Deferred.fail(deferred, failure)
            }
            values.push(upstream.value[edge.port])
          }
          inputs[port] = Array.isArray(input) ? values : values[0]
        }

        if (!options.force && (yield* store.has(key))) {
          const cached = yield* Effect.exit(store.read(key, node.stage.outputs))
          if (cached._tag === "Success") {
            results[node.id] = { key, cached: true, dir: store.entryDir(key), outputs: cached.value }
            yield* linkOutputs(runDir, node.id, store.entryDir(key))
            yield* emit({ type: "node-cached", time: now(), nodeId: node.id, stage: node.stage.name, key })
            return yield* Deferred.succeed(deferred, cached.value)
          }
          // An unreadable entry is recomputed, not trusted.
          yield* emit({ type: "node-log", time: now(), nodeId: node.id, message: `cached entry unreadable, recomputing: ${messageOf(cached.cause)}` })
        }

        yield* emit({ type: "node-started", time: now(), nodeId: node.id, stage: node.stage.name, key })
        const nodeStart = performance.now()
        const scratchDir = path.join(store.root, "scratch", `${key.slice(0, 16)}-${process.pid}-${Math.floor(nodeStart)}`)
        yield* Effect.promise(() => fs.mkdir(scratchDir, { recursive: true }))
        let lastProgress = 0
        const interval = options.progressIntervalMs ?? 250
        const context = StageContext.of({
          nodeId: node.id,
          stageName: node.stage.name,
          seed: deriveSeed(graph.seed, node.id),
          scratchDir,
          resolvePath: (p) => path.resolve(graph.baseDir, p),
          progress: (done, total, unit) =>
            Effect.suspend(() => {
              const t = performance.now()
              if (t - lastProgress < interval && done !== total) return Effect.void
              lastProgress = t
              const rate = done / Math.max((t - nodeStart) / 1000, 1e-9)
              const etaSeconds = total !== undefined && rate > 0 ? (total - done) / rate : undefined
              return emit({ type: "node-progress", time: now(), nodeId: node.id, done, total, unit, rate, etaSeconds })
            }),
          metric: (name, value, step) => emit({ type: "node-metric", time: now(), nodeId: node.id, name, value, step }),
          log: (message) => emit({ type: "node-log", time: now(), nodeId: node.id, message })
        })

        const computed = yield* Effect.exit(
          Effect.gen(function* () {
            const values = (yield* node.stage.run(node.params, inputs)) as Record<string, unknown>
            for (const [port, type] of Object.entries(node.stage.outputs as Ports)) {
              if (!(port in values)) return yield* new StageError({ message: `stage returned no value for output '${port}'` })
              const problem = type.check(values[port])
              if (problem) return yield* new StageError({ message: `output '${port}' is not a valid ${type.name}: ${problem}` })
            }
            const seconds = (performance.now() - nodeStart) / 1000
            const manifest: Manifest = {
              key,
              stage: node.stage.name,
              version: node.stage.version,
              nodeId: node.id,
              params: node.paramsJson,
              inputs: Object.fromEntries(
                Object.entries(node.inputs).map(([p, input]) => [p, edgesOf(input).map((e) => `${keys.get(e.node)}/${e.port}`).join(",")])
              ),
              ports: Object.fromEntries(Object.entries(node.stage.outputs as Ports).map(([p, t]) => [p, { type: t.name, format: t.format.kind }])),
              createdAt: now(),
              seconds
            }
            yield* store.write(manifest, node.stage.outputs, values)
            // Folder outputs were moved into the store: read their new paths back. Other values are
            // passed on as they are, not re-read from disk.
            const folders = Object.fromEntries(Object.entries(node.stage.outputs as Ports).filter(([, t]) => t.format.kind === "directory"))
            return { ...values, ...(yield* store.read(key, folders)) }
          }).pipe(Effect.provideService(StageContext, context))
        )
        yield* Effect.promise(() => fs.rm(scratchDir, { recursive: true, force: true }))
        if (computed._tag === "Failure") {
          const failure: NodeFailure = { nodeId: node.id, message: messageOf(computed.cause), skipped: false }
          failures.push(failure)
          yield* emit({ type: "node-failed", time: now(), nodeId: node.id, error: failure.message, skipped: false })
          return yield* Deferred.fail(deferred, failure)
        }
        results[node.id] = { key, cached: false, dir: store.entryDir(key), outputs: computed.value }
        yield* linkOutputs(runDir, node.id, store.entryDir(key))
        yield* emit({ type: "node-finished", time: now(), nodeId: node.id, key, seconds: (performance.now() - nodeStart) / 1000 })
        return yield* Deferred.succeed(deferred, computed.value)
      })

    yield* Effect.forEach(graph.nodes, processNode, { concurrency: options.concurrency ?? "unbounded", discard: true }).pipe(
      Effect.provide(options.layer ?? Layer.empty)
    )

    const values = Object.values(results)
    yield* emit({
      type: "run-finished",
      time: now(),
      runId,
      ok: failures.length === 0,
      seconds: (performance.now() - started) / 1000,
      computed: values.filter((r) => !r.cached).length,
      cached: values.filter((r) => r.cached).length,
      failed: failures.length
    })
    if (failures.length > 0) return yield* new RunFailedError({ runDir, failures })
    return { runId, runDir, nodes: results }
  })

/** `runs/.../outputs/<nodeId>` points at the node's entry in the store, for people browsing a run. */
const linkOutputs = (runDir: string, nodeId: string, entryDir: string) =>
  Effect.promise(async () => {
    const link = path.join(runDir, "outputs", nodeId)
    await fs.rm(link, { force: true })
    await fs.symlink(entryDir, link, "dir").catch(() => undefined)
  })
