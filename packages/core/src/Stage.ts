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
}): Stage<PS, In, Out, R> => {
  for (const [port, type] of Object.entries(definition.outputs)) {
    if (type.element) throw new Error(`stage '${definition.name}': output '${port}' is a ${type.name}; list ports are inputs only`)
  }
  if (!/^[a-z0-9][a-z0-9-]*\/[a-z0-9][a-z0-9-]*$/.test(definition.name)) {
    throw new Error(`stage name '${definition.name}' must look like 'plugin/stage' (lower-case, digits, dashes)`)
  }
  return { ...definition, optionalInputs: definition.optionalInputs ?? [] }
}
