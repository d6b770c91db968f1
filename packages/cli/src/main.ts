import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { Cause, Effect, Exit } from "effect"
import { GraphValidationError, RunFailedError } from "@embedflow/core"
import { Suite } from "@embedflow/eval"
import { evalCommand } from "./commands/eval.js"
import { graph } from "./commands/graph.js"
import { newPlugin } from "./commands/newPlugin.js"
import { describePlugins, formatPlugins } from "./commands/plugins.js"
import { gc, plan, reportsOf, run, UnknownNodeError } from "./commands/run.js"
import { serve } from "./commands/serve.js"
import { validate } from "./commands/validate.js"
import { loadRegistry } from "./loadPlugins.js"
import { ProgressRenderer } from "./ProgressRenderer.js"

/** The small built-in graph that `embedflow run --default` runs (shipped with this package). */
export const defaultGraphPath = fileURLToPath(new URL("../graphs/default.yaml", import.meta.url))

const usage = `embedflow — composable pipelines for text-embedding models and retrievers

Usage:
  embedflow run <graph.yaml|json|ts> [--store DIR] [--force] [--concurrency N] [--quiet]
  embedflow run <graph> --dry-run    the plan: each node's key, cached or to run; runs nothing
  embedflow run <graph> --explain N  what went into node N's key (params, inputs, file hashes)
  embedflow run --default            run the built-in demo graph
  embedflow gc [--keep-runs N]       remove cache entries no kept run uses (default: keep all runs)
  embedflow validate <graph>         check a graph (all problems at once), run nothing
  embedflow graph <graph> [--format mermaid|dot]
  embedflow plugins [--json]         stages with their ports and params
  embedflow new-plugin <name>        scaffold plugins/<name> (package, stage, test, README)
  embedflow eval --model <folder|hub id> [--tasks a,b] [--output DIR] [--onnx-file F]
                                     MTEB-style suite (STS, pair classification, classification,
                                     clustering, retrieval, reranking) on the shared data
  embedflow serve --model <folder>   OpenAI-compatible embeddings + rerank server (serve --help)

Artifacts are cached in --store (default: $EMBEDFLOW_STORE or ./.embedflow), keyed by stage, params,
inputs and the content of the files and folders a node reads: re-running a graph, or resuming a killed
run, recomputes only what changed or did not finish. Entries are verified when read; --force replaces them.`

export interface Io {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
  readonly stderr: NodeJS.WriteStream
}

const defaultIo: Io = {
  out: (t) => process.stdout.write(t + "\n"),
  err: (t) => process.stderr.write(t + "\n"),
  stderr: process.stderr
}

/** Exit codes: 0 success, 1 a run failed, 2 bad usage or an invalid graph. */
export const main = async (argv: ReadonlyArray<string>, io: Io = defaultIo): Promise<number> => {
  // serve parses its own options (--model may repeat).
  if (argv[0] === "serve") return serve(argv.slice(1), io)
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        store: { type: "string" },
        force: { type: "boolean", default: false },
        concurrency: { type: "string" },
        quiet: { type: "boolean", default: false },
        default: { type: "boolean", default: false },
        format: { type: "string", default: "mermaid" },
        json: { type: "boolean", default: false },
        model: { type: "string" },
        tasks: { type: "string" },
        output: { type: "string" },
        "onnx-file": { type: "string" },
        "dry-run": { type: "boolean", default: false },
        explain: { type: "string" },
        "keep-runs": { type: "string" },
        help: { type: "boolean", short: "h", default: false }
      }
    })
  } catch (e) {
    io.err(`${e instanceof Error ? e.message : String(e)}\n\n${usage}`)
    return 2
  }
  const { values, positionals } = parsed
  const [command, ...rest] = positionals
  if (values.help || !command) {
    ;(values.help ? io.out : io.err)(usage)
    return values.help ? 0 : 2
  }
  const graphFile = () => {
    if (values.default) return defaultGraphPath
    if (!rest[0]) throw new UsageError(`'${command}' needs a graph file (or --default)`)
    return rest[0]
  }

  try {
    switch (command) {
      case "run": {
        const concurrency = values.concurrency ? Number(values.concurrency) : undefined
        if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency > 0)) {
          throw new UsageError(`--concurrency must be a positive integer, got '${values.concurrency}'`)
        }
        const store = values.store ?? process.env.EMBEDFLOW_STORE ?? ".embedflow"
        if (values["dry-run"] || values.explain !== undefined) {
          const text = await runExit(plan(graphFile(), { store, force: values.force, explain: values.explain }), io)
          if (typeof text === "number") return text
          io.out(text)
          return 0
        }
        const renderer = new ProgressRenderer(io.stderr)
        const result = await runExit(
          run(graphFile(), {
            store,
            force: values.force,
            concurrency,
            listeners: values.quiet ? [] : [renderer.listener]
          }),
          io
        )
        if (typeof result === "number") return result
        for (const r of reportsOf(result)) io.out(`\n## ${r.nodeId}\n\n${r.markdown}`)
        io.out(`\nrun log and outputs: ${result.runDir}`)
        return 0
      }
      case "validate": {
        const result = await runExit(validate(graphFile()), io)
        if (typeof result === "number") return result
        io.out(result)
        return 0
      }
      case "graph": {
        const format = values.format === "dot" ? "dot" : values.format === "mermaid" ? "mermaid" : undefined
        if (!format) throw new UsageError(`--format must be mermaid or dot, got '${values.format}'`)
        const result = await runExit(graph(graphFile(), format), io)
        if (typeof result === "number") return result
        io.out(result)
        return 0
      }
      case "gc": {
        const keepRuns = values["keep-runs"] === undefined ? undefined : Number(values["keep-runs"])
        if (keepRuns !== undefined && !(Number.isInteger(keepRuns) && keepRuns >= 0)) {
          throw new UsageError(`--keep-runs must be a non-negative integer, got '${values["keep-runs"]}'`)
        }
        const result = await runExit(gc({ store: values.store ?? process.env.EMBEDFLOW_STORE ?? ".embedflow", keepRuns }), io)
        if (typeof result === "number") return result
        io.out(result)
        return 0
      }
      case "plugins": {
        const registry = await loadRegistry()
        io.out(values.json ? JSON.stringify(describePlugins(registry), null, 2) : formatPlugins(registry))
        return 0
      }
      case "new-plugin": {
        if (!rest[0]) throw new UsageError("'new-plugin' needs a name")
        const dir = await newPlugin(rest[0], process.cwd())
        io.out(`created ${path.relative(process.cwd(), dir)}: run 'npm install' to link it, then 'npx vitest run' in it`)
        return 0
      }
      case "eval": {
        if (!values.model) throw new UsageError("'eval' needs --model <folder|hub id>")
        const tasks = values.tasks?.split(",").map((t) => t.trim()).filter((t) => t !== "")
        try {
          Suite.resolveTasks(tasks)
        } catch (e) {
          throw new UsageError((e as Error).message)
        }
        const started = performance.now()
        const result = await runExit(
          evalCommand({
            model: values.model,
            tasks,
            output: values.output ?? "mteb-results",
            onnxFile: values["onnx-file"],
            onTask: values.quiet ? undefined : (line) => io.err(line)
          }),
          io
        )
        if (typeof result === "number") return result
        io.out(`${result.table}\nresults (MTEB JSON, one file per task): ${path.resolve(values.output ?? "mteb-results")}`)
        io.out(`total: ${((performance.now() - started) / 1000).toFixed(1)} s`)
        return 0
      }
      default:
        throw new UsageError(`unknown command '${command}'`)
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${e.message}\n\n${usage}`)
      return 2
    }
    io.err(`error: ${e instanceof Error ? e.message : String(e)}`)
    return 1
  }
}

class UsageError extends Error {}

/** Runs a command's effect; known failures become a message and an exit code. */
const runExit = async <A>(effect: Effect.Effect<A, unknown>, io: Io): Promise<A | number> => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) return exit.value
  const error = Cause.squash(exit.cause)
  if (error instanceof GraphValidationError) {
    io.err(error.message)
    return 2
  }
  if (error instanceof UnknownNodeError) {
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
