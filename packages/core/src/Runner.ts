import * as path from "node:path"
import { Cause, Data, Deferred, Effect, Layer } from "effect"
import { type ArtifactCorruptError, type ArtifactError, ArtifactStore, type Manifest, type RunFolder } from "./ArtifactStore.js"
import { edgesOf, type Graph } from "./Graph.js"
import { deriveSeed } from "./internal/canonicalJson.js"
import { ownerTag } from "./internal/owner.js"
import * as Plan from "./Plan.js"
import type { RunEvent, RunEventListener } from "./RunEvent.js"
import type { Ports } from "./Stage.js"
import * as Shards from "./Shards.js"
import { messageOf } from "./internal/causeMessage.js"
import { StageError } from "./StageError.js"
import { StageExecutor } from "./StageExecutor.js"
import { executeTask, type ShardInfo, type StageTask, type TaskEventSink } from "./StageTask.js"

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
  /** How many nodes may run at once (default: unbounded; only independent nodes overlap). */
  readonly concurrency?: number | "unbounded"
  /** Recompute every node and replace its cached entry. */
  readonly force?: boolean
  readonly listeners?: ReadonlyArray<RunEventListener>
  /** Services the stages need; default: the layers of the graph's plugins. Built once, released at the end. */
  readonly layer?: Layer.Layer<any, any, never>
  /** Minimum milliseconds between two progress events of one node. */
  readonly progressIntervalMs?: number
  /** Items per shard for sharded stages (default: the stage's `shard.items`). */
  readonly shardItems?: number
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

type Outputs = Readonly<Record<string, unknown>>

const now = () => new Date().toISOString()


const isNodeFailure = (u: unknown): u is NodeFailure =>
  !!u && typeof u === "object" && typeof (u as NodeFailure).nodeId === "string" && typeof (u as NodeFailure).skipped === "boolean"

/** The state one run shares between its nodes. */
interface Execution {
  readonly plan: Plan.Plan
  readonly options: RunOptions
  readonly run: RunFolder
  readonly emit: (event: RunEvent) => Effect.Effect<void>
  readonly outputs: ReadonlyMap<string, Deferred.Deferred<Outputs, NodeFailure>>
  readonly results: Record<string, NodeResult>
  readonly failures: Array<NodeFailure>
}

/**
 * Runs a validated graph: removes what dead runs left in the store, plans (keys, what is cached), then
 * executes the plan. Nodes run in topological order, independent ones concurrently, each served from
 * a verified cache entry or computed and stored. When a node fails, nodes that do not depend on it
 * still finish, so the next run resumes with all of them.
 */
export const run = (graph: Graph, options: RunOptions = {}): Effect.Effect<RunResult, RunFailedError | ArtifactError, ArtifactStore> =>
  Effect.gen(function* () {
    const store = yield* ArtifactStore
    yield* store.removeLeftovers()
    return yield* execute(yield* Plan.make(graph), options)
  })

/** Executes a plan made by {@link Plan.make}. */
export const execute = (plan: Plan.Plan, options: RunOptions = {}): Effect.Effect<RunResult, RunFailedError | ArtifactError, ArtifactStore> =>
  Effect.gen(function* () {
    const started = performance.now()
    const { runId, run } = yield* openRunFolder(plan)
    const listeners: Array<RunEventListener> = [(e) => run.appendLog(JSON.stringify(e)), ...(options.listeners ?? [])]
    const outputs = new Map<string, Deferred.Deferred<Outputs, NodeFailure>>()
    for (const n of plan.nodes) outputs.set(n.node.id, yield* Deferred.make<Outputs, NodeFailure>())
    const exec: Execution = {
      plan,
      options,
      run,
      emit: (event) => Effect.sync(() => listeners.forEach((l) => l(event))),
      outputs,
      results: {},
      failures: []
    }
    yield* exec.emit({ type: "run-started", time: now(), runId, graph: plan.graph.spec.name, nodes: plan.nodes.length })
    yield* Effect.forEach(plan.nodes, (n) => executeNode(exec, n), { concurrency: options.concurrency ?? "unbounded", discard: true }).pipe(
      Effect.provide(options.layer ?? plan.graph.registry.layer())
    )
    const values = Object.values(exec.results)
    yield* exec.emit({
      type: "run-finished",
      time: now(),
      runId,
      ok: exec.failures.length === 0,
      seconds: (performance.now() - started) / 1000,
      computed: values.filter((r) => !r.cached).length,
      cached: values.filter((r) => r.cached).length,
      failed: exec.failures.length
    })
    if (exec.failures.length > 0) return yield* new RunFailedError({ runDir: run.dir, failures: exec.failures })
    return { runId, runDir: run.dir, nodes: exec.results }
  })

/** `<store>/runs/<graph>/<runId>` with the graph and the plan, so `gc` knows which keys the run uses. */
const openRunFolder = (plan: Plan.Plan) =>
  Effect.gen(function* () {
    const store = yield* ArtifactStore
    const runId = `${now().replace(/[:.]/g, "-")}-${ownerTag().replace(/[^A-Za-z0-9-]/g, "-")}`
    const run = yield* store.openRun(plan.graph.spec.name, runId)
    yield* store.writeRunFile(run, "graph.json", JSON.stringify(plan.graph.spec, null, 2))
    yield* store.writeRunFile(
      run,
      "plan.json",
      JSON.stringify({ nodes: plan.nodes.map((n) => ({ id: n.node.id, key: n.key, cached: n.cached, failure: n.failure })) }, null, 2)
    )
    return { runId, run }
  })

/** One node: wait for its inputs, then serve it from the cache or compute it. */
const executeNode = (exec: Execution, planned: Plan.PlannedNode) =>
  Effect.gen(function* () {
    const deferred = exec.outputs.get(planned.node.id)!
    const outcome = yield* Effect.exit(
      Effect.gen(function* () {
        if (planned.failure !== undefined) return yield* Effect.fail<NodeFailure>({ nodeId: planned.node.id, message: planned.failure, skipped: false })
        const inputs = yield* awaitInputs(exec, planned)
        if (planned.cached && !exec.options.force) {
          const cached = yield* readCached(exec, planned)
          if (cached !== undefined) return cached
        }
        return yield* compute(exec, planned, inputs)
      })
    )
    if (outcome._tag === "Success") return yield* Deferred.succeed(deferred, outcome.value)
    const squashed = Cause.squash(outcome.cause)
    // A defect (an executor or stage that threw) still fails only this node, under its id.
    const failure: NodeFailure = isNodeFailure(squashed) ? squashed : { nodeId: planned.node.id, message: messageOf(outcome.cause), skipped: false }
    exec.failures.push(failure)
    yield* exec.emit({ type: "node-failed", time: now(), nodeId: failure.nodeId, error: failure.message, skipped: failure.skipped })
    return yield* Deferred.fail(deferred, failure)
  })

/** The values of a node's inputs, once the nodes they come from have finished. */
const awaitInputs = (exec: Execution, planned: Plan.PlannedNode): Effect.Effect<Record<string, unknown>, NodeFailure> =>
  Effect.gen(function* () {
    const inputs: Record<string, unknown> = {}
    for (const [port, input] of Object.entries(planned.node.inputs)) {
      const values: Array<unknown> = []
      for (const edge of edgesOf(input)) {
        const upstream = yield* Effect.exit(Deferred.await(exec.outputs.get(edge.node)!))
        if (upstream._tag === "Failure") {
          return yield* Effect.fail<NodeFailure>({
            nodeId: planned.node.id,
            message: `not run: input '${port}' comes from failed node '${edge.node}'`,
            skipped: true
          })
        }
        values.push(upstream.value[edge.port])
      }
      inputs[port] = Array.isArray(input) ? values : values[0]
    }
    return inputs
  })

/** A verified cached entry's outputs; a corrupt entry is reported, quarantined and left to recompute. */
const readCached = (exec: Execution, planned: Plan.PlannedNode) =>
  Effect.gen(function* () {
    const store = yield* ArtifactStore
    const { node, key } = planned
    const cached = yield* Effect.exit(store.read(key, node.stage.outputs))
    if (cached._tag === "Success") {
      exec.results[node.id] = { key, cached: true, dir: store.entryDir(key), outputs: cached.value }
      yield* store.linkOutput(exec.run, node.id, key).pipe(Effect.ignore)
      yield* exec.emit({ type: "node-cached", time: now(), nodeId: node.id, stage: node.stage.name, key })
      return cached.value as Outputs
    }
    const error = Cause.squash(cached.cause)
    const where = error && typeof error === "object" && "_tag" in error && error._tag === "ArtifactCorruptError" ? yield* store.quarantine(key).pipe(Effect.orElseSucceed(() => undefined)) : undefined
    yield* exec.emit({
      type: "node-warning",
      time: now(),
      nodeId: node.id,
      message: `node ${node.id}: ${messageOf(cached.cause)}, recomputing${where ? ` (moved to ${where})` : ""}`
    })
    return undefined
  })

/** Runs the stage (whole or shard by shard), checks its outputs against their port types, and stores them. */
const compute = (exec: Execution, planned: Plan.PlannedNode, inputs: Record<string, unknown>): Effect.Effect<Outputs, NodeFailure, ArtifactStore> =>
  Effect.gen(function* () {
    const store = yield* ArtifactStore
    const { node, key } = planned
    const fail = (message: string): NodeFailure => ({ nodeId: node.id, message, skipped: false })
    yield* exec.emit({ type: "node-started", time: now(), nodeId: node.id, stage: node.stage.name, key })
    const nodeStart = performance.now()
    const executor = yield* executorFor(exec, planned)
    const over = node.stage.shard?.over
    const storeNode = (values: Record<string, unknown>) => storeOutputs(exec, planned, key, node.id, values, (performance.now() - nodeStart) / 1000)
    const result = yield* (over !== undefined && inputs[over] !== undefined
      ? computeSharded(exec, planned, inputs, over, executor, nodeStart).pipe(Effect.tap(storeNode))
      : computeInScratch(exec, planned, key, inputs, undefined, executor?.runs === "all" ? executor : undefined, taskEvents(exec, node.id, nodeStart), storeNode)
    ).pipe(Effect.mapError((e) => fail(e.message)))
    exec.results[node.id] = { key, cached: false, dir: store.entryDir(key), outputs: result }
    yield* store.linkOutput(exec.run, node.id, key).pipe(Effect.ignore)
    yield* exec.emit({ type: "node-finished", time: now(), nodeId: node.id, key, seconds: (performance.now() - nodeStart) / 1000 })
    return result
  })

/** The executor a node's tasks go to: the provided one, unless it cannot import the stage's plugin or the run brings its own services. */
const executorFor = (exec: Execution, planned: Plan.PlannedNode) =>
  Effect.gen(function* () {
    const provided = yield* Effect.serviceOption(StageExecutor)
    if (provided._tag === "None" || exec.options.layer !== undefined) return undefined
    if (exec.plan.graph.registry.moduleOf(planned.node.stage.name) === undefined) return undefined
    return provided.value
  })

const taskOf = (exec: Execution, planned: Plan.PlannedNode, key: string, inputs: Record<string, unknown>, shard: ShardInfo | undefined, scratchDir: string): StageTask => ({
  nodeId: planned.node.id,
  stage: planned.node.stage.name,
  module: exec.plan.graph.registry.moduleOf(planned.node.stage.name),
  params: planned.node.paramsJson,
  seed: deriveSeed(exec.plan.graph.seed, planned.node.id),
  baseDir: exec.plan.graph.baseDir,
  scratchDir,
  key,
  shard,
  inputs
})

/** One task in a scratch folder of its own, on the executor or here; its outputs checked against the ports. */
const computeInScratch = (
  exec: Execution,
  planned: Plan.PlannedNode,
  key: string,
  inputs: Record<string, unknown>,
  shard: ShardInfo | undefined,
  executor: StageExecutor["Service"] | undefined,
  emit: TaskEventSink,
  store: (values: Record<string, unknown>) => Effect.Effect<void, StageError | ArtifactError | ArtifactCorruptError, ArtifactStore>
): Effect.Effect<Outputs, StageError | ArtifactError | ArtifactCorruptError, ArtifactStore> =>
  Effect.gen(function* () {
    const artifacts = yield* ArtifactStore
    return yield* Effect.acquireUseRelease(
      artifacts.makeScratch(key),
      (scratchDir) =>
        Effect.gen(function* () {
          const task = taskOf(exec, planned, key, inputs, shard, scratchDir)
          const values = executor ? yield* executor.execute(task, emit) : yield* executeTask(planned.node.stage, task, emit)
          yield* checkOutputs(planned, values)
          // Stored while the scratch folder (holding folder outputs) still exists; folders read back from the entry.
          yield* store(values)
          return yield* readFoldersBack(planned, key, values)
        }),
      (scratchDir) => artifacts.removeScratch(scratchDir).pipe(Effect.ignore)
    )
  })

/** A node's task events as run events; progress throttled to one event per interval. */
const taskEvents = (exec: Execution, nodeId: string, nodeStart: number): TaskEventSink => {
  let lastProgress = 0
  const interval = exec.options.progressIntervalMs ?? 250
  return (event) =>
    Effect.suspend(() => {
      switch (event.type) {
        case "log":
          return exec.emit({ type: "node-log", time: now(), nodeId, message: event.message })
        case "metric":
          return exec.emit({ type: "node-metric", time: now(), nodeId, name: event.name, value: event.value, step: event.step })
        case "progress": {
          const { done, total, unit } = event
          const t = performance.now()
          if (t - lastProgress < interval && done !== total) return Effect.void
          lastProgress = t
          const rate = done / Math.max((t - nodeStart) / 1000, 1e-9)
          const etaSeconds = total !== undefined && rate > 0 ? (total - done) / rate : undefined
          return exec.emit({ type: "node-progress", time: now(), nodeId, done, total, unit, rate, etaSeconds })
        }
      }
    })
}

/**
 * A sharded node: each shard served from its own cache entry or computed (on the executor, several at
 * once) and stored, then the shards merged in order. A killed run resumes with the shards it finished.
 */
const computeSharded = (
  exec: Execution,
  planned: Plan.PlannedNode,
  inputs: Record<string, unknown>,
  over: string,
  executor: StageExecutor["Service"] | undefined,
  nodeStart: number
) =>
  Effect.gen(function* () {
    const store = yield* ArtifactStore
    const { node } = planned
    const whole = inputs[over]
    const batch = Math.max(1, Math.floor(node.stage.shard?.batchOf?.(node.params) ?? 1))
    const items = exec.options.shardItems ?? node.stage.shard?.items ?? Shards.defaultShardItems
    const shards = Shards.plan(Shards.itemCount(whole), Math.ceil(items / batch) * batch)
    const progress = taskEvents(exec, node.id, nodeStart)
    const quiet: TaskEventSink = (event) => (event.type === "progress" ? Effect.void : progress(event))
    let done = 0
    let cached = 0
    const parts = yield* Effect.forEach(
      shards,
      (shard) =>
        Effect.gen(function* () {
          const items = Shards.sliceItems(whole, shard.offset, shard.offset + shard.items)
          const key = Shards.keyOf(planned.ingredients!, over, shard, items)
          const fromCache = exec.options.force ? undefined : yield* readCachedShard(exec, planned, key, shard)
          let values = fromCache
          if (values === undefined) {
            const storeShard = (v: Record<string, unknown>) => storeOutputs(exec, planned, key, `${node.id}#${shard.index}`, v, (performance.now() - nodeStart) / 1000)
            values = yield* computeInScratch(exec, planned, key, { ...inputs, [over]: items }, shard, executor, quiet, storeShard)
          } else cached++
          done += shard.items
          yield* progress({ type: "progress", done, total: shard.total, unit: "items" })
          return values
        }),
      { concurrency: executor ? Math.max(1, executor.capacity) : 1 }
    )
    yield* exec.emit({
      type: "node-log",
      time: now(),
      nodeId: node.id,
      message: `${shards.length} shard${shards.length === 1 ? "" : "s"} of ${shards[0]!.total} items${cached > 0 ? `, ${cached} from the cache` : ""}${executor ? ` on ${executor.name}` : ""}`
    })
    const merged = yield* Effect.try({
      try: () => Shards.merge(node.stage, node.params, parts),
      catch: (e) => new StageError({ message: `merging the shards failed: ${e instanceof Error ? e.message : String(e)}`, cause: e })
    })
    yield* checkOutputs(planned, merged)
    return merged
  })

/** A shard's verified cache entry; a corrupt one is quarantined and recomputed. */
const readCachedShard = (exec: Execution, planned: Plan.PlannedNode, key: string, shard: ShardInfo) =>
  Effect.gen(function* () {
    const store = yield* ArtifactStore
    if (!(yield* store.has(key))) return undefined
    const cached = yield* Effect.exit(store.read(key, planned.node.stage.outputs))
    if (cached._tag === "Success") return cached.value as Record<string, unknown>
    const error = Cause.squash(cached.cause)
    const where = error && typeof error === "object" && "_tag" in error && error._tag === "ArtifactCorruptError" ? yield* store.quarantine(key).pipe(Effect.orElseSucceed(() => undefined)) : undefined
    yield* exec.emit({
      type: "node-warning",
      time: now(),
      nodeId: planned.node.id,
      message: `shard ${shard.index}: ${messageOf(cached.cause)}, recomputing${where ? ` (moved to ${where})` : ""}`
    })
    return undefined
  })

/** Folder outputs were moved into the store: their new paths. Other values are passed on as they are, not re-read. */
const readFoldersBack = (planned: Plan.PlannedNode, key: string, values: Record<string, unknown>) =>
  Effect.gen(function* () {
    const store = yield* ArtifactStore
    const folders = Object.fromEntries(Object.entries(planned.node.stage.outputs as Ports).filter(([, t]) => t.format.kind === "directory"))
    if (Object.keys(folders).length === 0) return values as Outputs
    return { ...values, ...(yield* store.read(key, folders)) } as Outputs
  })

/** Every declared output is there and has its port's type. */
const checkOutputs = (planned: Plan.PlannedNode, values: Record<string, unknown>) =>
  Effect.gen(function* () {
    for (const [port, type] of Object.entries(planned.node.stage.outputs as Ports)) {
      if (!(port in values)) return yield* new StageError({ message: `stage returned no value for output '${port}'` })
      const problem = type.check(values[port])
      if (problem) return yield* new StageError({ message: `output '${port}' is not a valid ${type.name}: ${problem}` })
    }
  })

const storeOutputs = (exec: Execution, planned: Plan.PlannedNode, key: string, entryName: string, values: Record<string, unknown>, seconds: number) =>
  Effect.gen(function* () {
    const store = yield* ArtifactStore
    const { node, ingredients } = planned
    // A remote executor may have stored the entry itself (into a store all runners share).
    if (!exec.options.force && (yield* store.has(key))) return
    const manifest: Manifest = {
      key,
      stage: node.stage.name,
      version: node.stage.version,
      nodeId: entryName,
      params: node.paramsJson,
      inputs: ingredients?.inputs ?? {},
      reads: ingredients?.reads,
      ports: Object.fromEntries(Object.entries(node.stage.outputs as Ports).map(([p, t]) => [p, { type: t.name, format: t.format.kind }])),
      createdAt: now(),
      seconds
    }
    yield* store.write(manifest, node.stage.outputs, values, { replace: exec.options.force === true })
  })
