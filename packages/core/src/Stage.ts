import type { Effect, Schema } from "effect"
import type { PortType, PortValue } from "./PortType.js"
import type { StageContext } from "./StageContext.js"
import type { StageError, StageFailure } from "./StageError.js"

/** How a stage resolves paths while the runner plans (before it runs). */
export interface PlanContext {
  /** Resolves a path given in params relative to the graph file's folder. */
  readonly resolvePath: (p: string) => string
}

export type Ports = Readonly<Record<string, PortType<any>>>
export type ValuesOf<P extends Ports> = { readonly [K in keyof P]: PortValue<P[K]> }

/**
 * A typed pipeline step: a pure function of its params, its inputs and the services it asks for.
 * Purity is what makes the runner's cache and resume correct: bump `version` whenever the output
 * for the same params and inputs would change.
 */
export interface Stage<
  PS extends Schema.Top = Schema.Top,
  In extends Ports = Ports,
  Out extends Ports = Ports,
  R = never
> {
  /** `plugin/stage`, unique across loaded plugins. */
  readonly name: string
  readonly version: string
  readonly description: string
  readonly params: PS
  readonly inputs: In
  /** Input ports a graph may leave unconnected. */
  readonly optionalInputs: ReadonlyArray<keyof In & string>
  readonly outputs: Out
  readonly run: (
    params: PS["Type"],
    inputs: ValuesOf<In>
  ) => Effect.Effect<ValuesOf<Out>, StageFailure, R | StageContext>
  /**
   * Files and folders the stage reads that no `Params.filePath`/`Params.folderPath` param names (e.g.
   * a data set under the data root): absolute paths whose content goes into the node's cache key.
   */
  readonly reads?: ((params: PS["Type"], context: PlanContext) => Effect.Effect<ReadonlyArray<string>, StageError>) | undefined
  readonly shard?: ShardSpec<PS, In, Out> | undefined
}

/**
 * A stage that maps over one input in chunks: the runner cuts that input into shards of `items` items,
 * runs and caches each shard as a unit of its own (on a worker thread or a cluster runner when one is
 * provided), and merges the shards' outputs in order. The stage must treat items independently (seed
 * per-item randomness with `shard.offset + i` from the StageContext), so that the merged output equals
 * the output of one run over the whole input, bit for bit, whatever the shard size.
 */
export interface ShardSpec<PS extends Schema.Top = Schema.Top, In extends Ports = Ports, Out extends Ports = Ports> {
  /** The input port mapped over: a records port (an array) or a vectors port (rows). */
  readonly over: keyof In & string
  /** Items per shard unless the run says otherwise (default 512). */
  readonly items?: number | undefined
  /**
   * The stage's batch size for these params: shard sizes are rounded up to a multiple of it, so the
   * batches cut from each shard are the batches of a one-shard run (for stages whose numerics depend
   * on what shares a batch, e.g. padding in a decoder).
   */
  readonly batchOf?: ((params: PS["Type"]) => number) | undefined
  /** Combines the shards' outputs in shard order; by default records are concatenated and vectors stacked. */
  readonly merge?: ((params: PS["Type"], parts: ReadonlyArray<ValuesOf<Out>>) => ValuesOf<Out>) | undefined
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStage = Stage<any, any, any, any>

export const make = <
  PS extends Schema.Top & { readonly DecodingServices: never },
  const In extends Ports,
  const Out extends Ports,
  R = never
>(definition: {
  readonly name: string
  readonly version: string
  readonly description: string
  readonly params: PS
  readonly inputs: In
  readonly optionalInputs?: ReadonlyArray<keyof In & string>
  readonly outputs: Out
  readonly run: (params: PS["Type"], inputs: ValuesOf<In>) => Effect.Effect<ValuesOf<Out>, StageFailure, R | StageContext>
  readonly reads?: (params: PS["Type"], context: PlanContext) => Effect.Effect<ReadonlyArray<string>, StageError>
  readonly shard?: ShardSpec<PS, In, Out>
}): Stage<PS, In, Out, R> => {
  for (const [port, type] of Object.entries(definition.outputs)) {
    if (type.element) throw new Error(`stage '${definition.name}': output '${port}' is a ${type.name}; list ports are inputs only`)
  }
  if (!/^[a-z0-9][a-z0-9-]*\/[a-z0-9][a-z0-9-]*$/.test(definition.name)) {
    throw new Error(`stage name '${definition.name}' must look like 'plugin/stage' (lower-case, digits, dashes)`)
  }
  const shard = definition.shard
  if (shard) {
    const over = definition.inputs[shard.over] as PortType<unknown> | undefined
    if (!over || over.element || (over.format.kind !== "records" && over.format.kind !== "vectors")) {
      throw new Error(`stage '${definition.name}': shard.over '${shard.over}' must be a records or vectors input port`)
    }
    if (shard.items !== undefined && !(Number.isInteger(shard.items) && shard.items > 0)) {
      throw new Error(`stage '${definition.name}': shard.items must be a positive integer, got ${shard.items}`)
    }
    // Folder outputs would be moved out of the shard entries by the merge: a sharded stage returns values.
    const folder = Object.entries(definition.outputs).find(([, t]) => t.format.kind === "directory")
    if (folder) throw new Error(`stage '${definition.name}': a sharded stage cannot have a folder output ('${folder[0]}')`)
    const unmergeable = Object.entries(definition.outputs).find(([, t]) => t.format.kind !== "records" && t.format.kind !== "vectors")
    if (!shard.merge && unmergeable) {
      throw new Error(`stage '${definition.name}': output '${unmergeable[0]}' (${unmergeable[1].format.kind}) needs a shard.merge`)
    }
  }
  return { ...definition, optionalInputs: definition.optionalInputs ?? [] }
}
