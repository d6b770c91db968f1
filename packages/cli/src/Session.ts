import { Context, Effect } from "effect"
import type { ServerHandle } from "@embedflow/serve"

/** Where a command writes: `out` and `err` take whole lines; `stderr` is for the live progress line. */
export interface Io {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
  readonly stderr: NodeJS.WriteStream
}

/** The process's own streams. */
export const processIo: Io = {
  out: (t) => process.stdout.write(t + "\n"),
  err: (t) => process.stderr.write(t + "\n"),
  stderr: process.stderr
}

/**
 * One invocation of the CLI: where its commands write, and how it ends. Provided by `main` (tests, and
 * `bin.ts` under the platform-node runtime), so the command handlers never touch `process` directly.
 */
export class Session extends Context.Service<
  Session,
  {
    readonly io: Io
    /** `serve` runs until this resolves (default: SIGINT or SIGTERM). */
    readonly serveUntil?: ((server: ServerHandle) => Promise<unknown>) | undefined
    /**
     * Called by a command whose normal end is an interruption (`serve` stops on SIGINT/SIGTERM): an
     * interrupted invocation then exits 0 instead of 130.
     */
    readonly interruptionIsNormalEnd: () => void
  }
>()("@embedflow/cli/Session") {}

/** Writes lines to the session's stdout. */
export const printOut = (text: string) =>
  Effect.gen(function* () {
    const { io } = yield* Session
    io.out(text)
  })

/** Writes lines to the session's stderr. */
export const printErr = (text: string) =>
  Effect.gen(function* () {
    const { io } = yield* Session
    io.err(text)
  })
