/**
 * `embedflow serve --model <folder|hub id> [--model id=folder ...] [--host 127.0.0.1] [--port 8080]`:
 * serves the models over HTTP (OpenAI /v1/embeddings, /v1/models, TEI /rerank, /health, /metrics)
 * until SIGINT/SIGTERM, then drains in-flight requests and exits 0.
 */
import { type ServerHandle, type ServeOptions, parseModelSpec, startServer } from "@embedflow/serve"
import * as fs from "node:fs"
import { parseArgs } from "node:util"

export const serveUsage = `Usage:
  embedflow serve --model <folder|hub id> [--model <id>=<folder> ...] [--host 127.0.0.1] [--port 8080]
                  [--max-batch-tokens 8192] [--max-run-tokens 1024] [--max-wait-ms 0] [--max-queue 4096]
                  [--max-body-bytes 4194304]
                  [--threads N] [--pooling mean|cls|last-token] [--no-normalize]

  POST /v1/embeddings  OpenAI embeddings (input, encoding_format float|base64, dimensions)
  GET  /v1/models      the served models
  POST /rerank         cross-encoder folders: { query, texts, raw_scores?, return_text? } (TEI's shape)
  GET  /health, GET /metrics (Prometheus)

A model is addressed by its folder name, its hub id, or the <id> given as <id>=<folder>.
Binds 127.0.0.1 unless --host says otherwise. Hub ids load only with EMBEDFLOW_ALLOW_REMOTE=1.
--max-batch-tokens: tokens gathered across requests per batch; --max-run-tokens: padded tokens per
onnxruntime run within a batch. --threads: onnxruntime intra-op threads per model (default onnxruntime's: one per core).
--pooling/--no-normalize apply to plain backbones without sentence-transformers layout files.`

export class ServeUsageError extends Error {}

const positiveInt = (name: string, value: string | undefined, min = 1): number | undefined => {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) throw new ServeUsageError(`--${name} must be an integer >= ${min}, got '${value}'`)
  return n
}

/** Parses `serve`'s arguments into server options (throws ServeUsageError on bad usage). */
export const parseServeArgs = (argv: ReadonlyArray<string>): ServeOptions & { readonly help: boolean } => {
  let values
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      allowPositionals: false,
      options: {
        model: { type: "string", multiple: true },
        host: { type: "string" },
        port: { type: "string" },
        "max-batch-tokens": { type: "string" },
        "max-run-tokens": { type: "string" },
        "max-wait-ms": { type: "string" },
        "max-queue": { type: "string" },
        "max-body-bytes": { type: "string" },
        pooling: { type: "string" },
        threads: { type: "string" },
        "no-normalize": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false }
      }
    }))
  } catch (e) {
    throw new ServeUsageError(e instanceof Error ? e.message : String(e))
  }
  if (values.help) return { models: [], help: true }
  const models = (values.model ?? []).map((m) => parseModelSpec(m, (s) => fs.existsSync(s)))
  if (models.length === 0) throw new ServeUsageError("'serve' needs at least one --model")
  const pooling = values.pooling
  if (pooling !== undefined && pooling !== "mean" && pooling !== "cls" && pooling !== "last-token") {
    throw new ServeUsageError(`--pooling must be mean, cls or last-token, got '${pooling}'`)
  }
  const port = positiveInt("port", values.port, 0)
  if (port !== undefined && port > 65535) throw new ServeUsageError(`--port must be <= 65535, got ${port}`)
  return {
    help: false,
    models,
    host: values.host,
    port,
    maxBatchTokens: positiveInt("max-batch-tokens", values["max-batch-tokens"]),
    maxRunTokens: positiveInt("max-run-tokens", values["max-run-tokens"]),
    maxWaitMs: positiveInt("max-wait-ms", values["max-wait-ms"], 0),
    maxQueued: positiveInt("max-queue", values["max-queue"]),
    maxBodyBytes: positiveInt("max-body-bytes", values["max-body-bytes"]),
    pooling,
    normalize: values["no-normalize"] ? false : undefined,
    load: values.threads !== undefined ? { intraOpNumThreads: positiveInt("threads", values.threads) } : undefined
  }
}

export interface ServeIo {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
}

/** Runs the server until `stop` resolves (default: SIGINT or SIGTERM). Exit codes: 0 ok, 1 cannot start, 2 bad usage. */
export const serve = async (argv: ReadonlyArray<string>, io: ServeIo, stop?: (server: ServerHandle) => Promise<unknown>): Promise<number> => {
  let options
  try {
    options = parseServeArgs(argv)
  } catch (e) {
    if (!(e instanceof ServeUsageError)) throw e
    io.err(`${e.message}\n\n${serveUsage}`)
    return 2
  }
  if (options.help) {
    io.out(serveUsage)
    return 0
  }
  let server: ServerHandle
  try {
    server = await startServer(options)
  } catch (e) {
    io.err(`error: cannot start the server: ${e instanceof Error ? e.message : String(e)}`)
    return 1
  }
  for (const m of server.models.values()) {
    io.out(`  ${m.id}: ${m.kind === "embedding" ? `embeddings, ${m.dim} dimensions` : "rerank"} (${m.source})`)
  }
  io.out(`serving on ${server.url} (POST /v1/embeddings, POST /rerank, GET /v1/models, /health, /metrics); Ctrl-C stops`)
  await (stop ?? untilSignal)(server)
  io.out("shutting down: draining in-flight requests")
  await server.close()
  return 0
}

const untilSignal = () =>
  new Promise<void>((resolve) => {
    const done = () => {
      process.off("SIGINT", done)
      process.off("SIGTERM", done)
      resolve()
    }
    process.on("SIGINT", done)
    process.on("SIGTERM", done)
  })
