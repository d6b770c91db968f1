#!/usr/bin/env node
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Exit } from "effect"
import { cli } from "./main.js"

// SIGINT/SIGTERM interrupt the command (its finalizers run: a run's scratch folders, serve's draining),
// then the process exits 130, or 0 for serve, whose normal end that is.
let interruptedCode = 130
NodeRuntime.runMain(cli(process.argv.slice(2), undefined, { onInterruptionIsNormalEnd: () => (interruptedCode = 0) }), {
  disableErrorReporting: true,
  teardown: (exit, onExit) => {
    if (Exit.isSuccess(exit)) {
      // cli() succeeds with the exit code; Node exits by itself once stdout and stderr are flushed.
      process.exitCode = exit.value as number
      return onExit(0)
    }
    onExit(Cause.hasInterruptsOnly(exit.cause) ? interruptedCode : 1)
  }
})
