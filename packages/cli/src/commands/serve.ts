/**
 * `embedflow serve --model <folder|hub id> [--model id=folder ...] [--host 127.0.0.1] [--port 8080]`:
 * serves the models over HTTP (OpenAI /v1/embeddings, /v1/models, TEI /rerank, /health, /metrics)
 * until SIGINT/SIGTERM, then drains in-flight requests and exits 0.
 */
import * as fs from "node:fs"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { parseModelSpec, type ServerHandle, type ServeOptions, startServer } from "@embedflow/serve"
import { intFlag, switchFlag } from "../internal/options.js"
import { type Io, Session } from "../Session.js"

const optionalInt = (name: string, min: number, description: string) => intFlag(name, min, description).pipe(Flag.optional)

const serveParams = {
  models: Flag.String("model").pipe(
    Flag.withMetavar("folder|hub id|id=folder"),
    Flag.withDescription("a model to serve (repeat for several); addressed by its folder name, its hub id, or the id of id=folder"),
    Flag.atLeast(1)
  ),
  host: Flag.String("host").pipe(Flag.withDescription("the address to bind (default 127.0.0.1: this machine only)"), Flag.optional),
  port: intFlag("port", 0, "the port (default 8080; 0 picks a free one)").pipe(
    Flag.filter((p) => p <= 65535, () => "a port number, 0 to 65535"),
    Flag.optional
  ),
  maxBatchTokens: optionalInt("max-batch-tokens", 1, "tokens gathered across requests per batch (default 8192)"),
  maxRunTokens: optionalInt("max-run-tokens", 1, "padded tokens per onnxruntime run within a batch (default 1024)"),
  maxWaitMs: optionalInt("max-wait-ms", 0, "how long an idle model waits for more requests before a partial batch (default 0)"),
  maxQueue: optionalInt("max-queue", 1, "inputs queued per model before requests get 429 (default 4096)"),
  maxBodyBytes: optionalInt("max-body-bytes", 1, "largest request body; larger ones get 413 (default 4194304)"),
  threads: optionalInt("threads", 1, "onnxruntime intra-op threads per model (default onnxruntime's: one per core)"),
  pooling: Flag.Literals("pooling", ["mean", "cls", "last-token"]).pipe(
    Flag.withDescription("pooling of plain backbones without sentence-transformers layout files (default mean)"),
    Flag.optional
  ),
  noNormalize: switchFlag("no-normalize", "do not L2-normalise the embeddings of plain backbones").pipe(Flag.withoutNegation)
}

type ServeInput = Command.Command.Config.Infer<typeof serveParams>

/** The server options that `serve`'s flags describe. */
export const serveOptions = (input: ServeInput): ServeOptions => {
  const threads = Option.getOrUndefined(input.threads)
  return {
    models: input.models.map((m) => parseModelSpec(m, (s) => fs.existsSync(s))),
    host: Option.getOrUndefined(input.host),
    port: Option.getOrUndefined(input.port),
    maxBatchTokens: Option.getOrUndefined(input.maxBatchTokens),
    maxRunTokens: Option.getOrUndefined(input.maxRunTokens),
    maxWaitMs: Option.getOrUndefined(input.maxWaitMs),
    maxQueued: Option.getOrUndefined(input.maxQueue),
    maxBodyBytes: Option.getOrUndefined(input.maxBodyBytes),
    pooling: Option.getOrUndefined(input.pooling),
    normalize: input.noNormalize ? false : undefined,
    load: threads !== undefined ? { intraOpNumThreads: threads } : undefined
  }
}

export class ServerStartError extends Error {}

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

/**
 * Serves until the session's `serveUntil` resolves (default SIGINT/SIGTERM); an interruption (the
 * platform runtime's answer to those signals) is a normal end too. Either way in-flight requests drain.
 */
const serveHandler = (input: ServeInput) =>
  Effect.gen(function* () {
    const session = yield* Session
    const { io } = session
    yield* Effect.acquireUseRelease(
      Effect.tryPromise({
        try: () => startServer(serveOptions(input)),
        catch: (e) => new ServerStartError(`cannot start the server: ${e instanceof Error ? e.message : String(e)}`)
      }),
      (server) =>
        Effect.promise(() => {
          for (const m of server.models.values()) {
            io.out(`  ${m.id}: ${m.kind === "embedding" ? `embeddings, ${m.dim} dimensions` : "rerank"} (${m.source})`)
          }
          io.out(`serving on ${server.url} (POST /v1/embeddings, POST /rerank, GET /v1/models, /health, /metrics); Ctrl-C stops`)
          session.interruptionIsNormalEnd()
          return (session.serveUntil ?? untilSignal)(server)
        }),
      (server) =>
        Effect.promise(async () => {
          io.out("shutting down: draining in-flight requests")
          await server.close()
        })
    )
  })

export const serveCommand = Command.make("serve", serveParams, serveHandler).pipe(
  Command.withDescription(
    [
      "Serves model folders (trained exports, backbones, cross-encoders) over HTTP until SIGINT/SIGTERM, then drains in-flight requests and exits 0.",
      "",
      "  POST /v1/embeddings  OpenAI embeddings (input, encoding_format float|base64, dimensions)",
      "  GET  /v1/models      the served models",
      "  POST /rerank         cross-encoder folders: { query, texts, raw_scores?, return_text? } (TEI's shape)",
      "  GET  /health, GET /metrics (Prometheus)",
      "",
      "Binds 127.0.0.1 unless --host says otherwise. Hub ids load only with EMBEDFLOW_ALLOW_REMOTE=1."
    ].join("\n")
  ),
  Command.withShortDescription("OpenAI-compatible embeddings + rerank server"),
  Command.withExamples([
    { command: "embedflow serve --model models/glove-6b-100d --model cross=models/tiny/tiny-bert-cross", description: "two models on 127.0.0.1:8080" }
  ])
)

/** `embedflow serve <argv>` in this process, until `stop` resolves (default: SIGINT or SIGTERM). Exit codes as `main`'s. */
export const serve = async (
  argv: ReadonlyArray<string>,
  io: Pick<Io, "out" | "err">,
  stop?: (server: ServerHandle) => Promise<unknown>
): Promise<number> => {
  // Imported when called: main.ts imports this module to build the command tree.
  const { main } = await import("../main.js")
  return main(["serve", ...argv], { ...io, stderr: process.stderr }, { serveUntil: stop })
}
