import { fileURLToPath } from "node:url"
import { Config, Effect, Option } from "effect"
import { Argument, CliError, Flag } from "effect/cli"

/** The small built-in graph that `embedflow run --default` runs (shipped with this package). */
export const defaultGraphPath = fileURLToPath(new URL("../../graphs/default.yaml", import.meta.url))

/** A flag that is off unless given (`--name`; effect/cli also accepts `--no-name`). */
export const switchFlag = (name: string, description: string) =>
  Flag.Boolean(name).pipe(Flag.withDescription(description), Flag.withDefault(false))

/** An integer flag of at least `min`; a bad value names the flag and what it expected. */
export const intFlag = (name: string, min: number, description: string) =>
  Flag.Int(name).pipe(
    Flag.filter(
      (n) => n >= min,
      () => (min === 1 ? "a positive integer" : min === 0 ? "a non-negative integer" : `an integer >= ${min}`)
    ),
    Flag.withDescription(description)
  )

/** `--store DIR`, else $EMBEDFLOW_STORE, else ./.embedflow. */
export const storeFlag = Flag.String("store").pipe(
  Flag.withMetavar("dir"),
  Flag.withDescription("the artifact store (cache and run logs); default $EMBEDFLOW_STORE or ./.embedflow"),
  Flag.withFallbackConfig(Config.String("EMBEDFLOW_STORE")),
  Flag.withDefault(".embedflow")
)

export const quietFlag = switchFlag("quiet", "no progress on stderr")

/** The graph a command reads: a file, or `--default` for the built-in demo graph. */
export const graphParams = {
  graph: Argument.String("graph").pipe(Argument.withDescription("graph file (.yaml, .json or .ts)"), Argument.optional),
  default: switchFlag("default", "use the built-in demo graph (graphs/default.yaml) instead of a file")
}

/** The graph file named by `graphParams`, or a usage error naming what is missing. */
export const graphFile = (
  command: string,
  input: { readonly graph: Option.Option<string>; readonly default: boolean }
): Effect.Effect<string, CliError.ValidationError> => {
  if (input.default && Option.isSome(input.graph)) {
    return Effect.fail(new CliError.ValidationError({ message: `'${command}' takes a graph file or --default, not both` }))
  }
  if (input.default) return Effect.succeed(defaultGraphPath)
  return Option.match(input.graph, {
    onNone: () => Effect.fail(new CliError.ValidationError({ message: `'${command}' needs a graph file (or --default)` })),
    onSome: Effect.succeed
  })
}
