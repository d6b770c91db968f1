import { readFileSync } from "node:fs"
import { format } from "node:util"
import { NodeServices } from "@effect/platform-node"
import { Cause, ConfigProvider, Console, Effect, Exit } from "effect"
import { CliConfig, CliError, CliOutput, Command, GlobalFlag } from "effect/cli"
import { GraphValidationError, RunFailedError } from "@embedflow/core"
import type { ServerHandle } from "@embedflow/serve"
import { evalCommand } from "./commands/eval.js"
import { gcCommand } from "./commands/gc.js"
import { graphCommand } from "./commands/graph.js"
import { newPluginCommand } from "./commands/newPlugin.js"
import { pluginsCommand } from "./commands/plugins.js"
import { runCommand, UnknownNodeError } from "./commands/run.js"
import { serveCommand } from "./commands/serve.js"
import { validateCommand } from "./commands/validate.js"
import { workerCommand } from "./commands/worker.js"
import { type Io, processIo, Session } from "./Session.js"

export { defaultGraphPath } from "./internal/options.js"
export type { Io } from "./Session.js"

/** This package's version (`embedflow --version`). */
const version = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version

/** The command tree: one definition per file in commands/; a new command is one more entry here. */
export const embedflow = Command.make("embedflow").pipe(
  Command.withDescription("Composable pipelines that build text-embedding models and retrievers from LLM feedback."),
  Command.withExamples([
    { command: "embedflow run --default", description: "run the built-in demo graph" },
    { command: "embedflow run --help", description: "each command's options" },
    { command: "source <(embedflow --completions bash)", description: "shell completions (also zsh, fish, powershell)" }
  ]),
  Command.withSubcommands([runCommand, validateCommand, graphCommand, gcCommand, pluginsCommand, newPluginCommand, evalCommand, serveCommand, workerCommand])
)

/** --help, --version and --completions on every command; no interactive wizard, no --log-level (nothing logs through Effect). */
const builtIns = [GlobalFlag.Help, GlobalFlag.Version, GlobalFlag.Completions]

/** Help on stdout when asked for, on stderr (with the errors after it) when the invocation was wrong. */
const presenter = (io: Io): CliOutput.Presenter => {
  const formatter = CliOutput.defaultFormatter({ colors: false, globalFlags: "summary" })
  return {
    present: (event) =>
      Effect.sync(() => {
        switch (event._tag) {
          case "Help":
            return (event.reason === "Requested" ? io.out : io.err)(formatter.formatHelpDoc(event.helpDoc))
          case "InvalidInvocation":
            io.err(formatter.formatHelpDoc(event.helpDoc))
            return io.err(formatter.formatErrors(event.errors))
          case "Version":
            return io.out(formatter.formatVersion(event.name, event.version))
        }
      })
  }
}

/** Effect's Console (completion scripts go through it) writing to the session's streams. */
const consoleOf = (io: Io): Console.Console => ({
  ...globalThis.console,
  log: (...args) => io.out(format(...args)),
  info: (...args) => io.out(format(...args)),
  error: (...args) => io.err(format(...args)),
  warn: (...args) => io.err(format(...args))
})

/**
 * The exit code of a finished invocation, after reporting its failure: 0 ok, 1 a node (or the command)
 * failed, 2 bad usage (already shown with the command's help) or an invalid graph, 130 interrupted.
 */
const exitCodeOf = (exit: Exit.Exit<unknown, unknown>, io: Io, interruptedCode: number): number => {
  if (Exit.isSuccess(exit)) return 0
  if (Cause.hasInterruptsOnly(exit.cause)) return interruptedCode
  const error = Cause.squash(exit.cause)
  if (CliError.isCliError(error)) return 2
  if (error instanceof GraphValidationError || error instanceof UnknownNodeError) {
    io.err(error.message)
    return 2
  }
  if (error instanceof RunFailedError) {
    io.err(error.message)
    return 1
  }
  io.err(`error: ${error instanceof Error ? error.message : Cause.pretty(exit.cause)}`)
  return 1
}

export interface MainOptions {
  /** `serve` runs until this resolves (default: SIGINT or SIGTERM). */
  readonly serveUntil?: ((server: ServerHandle) => Promise<unknown>) | undefined
  /** Told when the running command's normal end is an interruption (`serve`): the runtime then exits 0, not 130. */
  readonly onInterruptionIsNormalEnd?: (() => void) | undefined
}

/**
 * The CLI as an effect: parses `argv` with effect/cli, runs the command, and succeeds with the exit
 * code (see `exitCodeOf`). Output goes through `io`. An interruption (the platform runtime's answer
 * to SIGINT/SIGTERM) ends it with 130, or 0 for a command that stops that way normally (`serve`).
 */
export const cli = (argv: ReadonlyArray<string>, io: Io = processIo, options: MainOptions = {}) =>
  Effect.suspend(() => {
    let interruptedCode = 130
    const session = Session.of({
      io,
      serveUntil: options.serveUntil,
      interruptionIsNormalEnd: () => {
        interruptedCode = 0
        options.onInterruptionIsNormalEnd?.()
      }
    })
    return Command.runWith(embedflow, { version })(argv).pipe(
      Effect.provideService(Session, session),
      Effect.provideService(CliOutput.Presenter, presenter(io)),
      Effect.provideService(Console.Console, consoleOf(io)),
      Effect.provideService(CliConfig.CliConfig, CliConfig.make({ builtIns })),
      // The environment as it is now (effect's default provider keeps the one it first saw): --store's $EMBEDFLOW_STORE.
      Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv()),
      Effect.provide(NodeServices.layer),
      Effect.exit,
      Effect.map((exit) => exitCodeOf(exit, io, interruptedCode))
    )
  })

/** Runs the CLI in this process and resolves with its exit code: 0 ok, 1 a node failed, 2 bad usage or an invalid graph. */
export const main = (argv: ReadonlyArray<string>, io: Io = processIo, options: MainOptions = {}): Promise<number> =>
  Effect.runPromise(cli(argv, io, options))
