/**
 * embedflow RAG from the command line:
 *
 *   node --conditions=source --import tsx examples/rag/src/cli.ts ingest examples/rag/docs
 *   node --conditions=source --import tsx examples/rag/src/cli.ts ask "How does a killed run resume?"
 *   node --conditions=source --import tsx examples/rag/src/cli.ts serve --port 8080
 *
 * Run with --help for every option.
 */
import { parseArgs } from "node:util"
import { layerModelHub } from "@embedflow/models"
import { Effect, Exit } from "effect"
import type { ChunkOptions } from "./Chunker.js"
import type { IndexKind } from "./ChunkIndex.js"
import { defaultIndexDir, ingest, type LmSpec, makeRag } from "./Rag.js"
import type { RagError } from "./RagError.js"
import { startServer } from "./Server.js"

const USAGE = `usage:
  cli.ts ingest <folder> [--index-dir DIR] [--encoder MODEL] [--pooling mean|cls] [--unit words|chars]
                         [--chunk-size N] [--overlap N] [--index flat|hnsw|exact]
  cli.ts ask "<question>" [--index-dir DIR] [--k 4] [--min-score 0.1] [--max-new-tokens N] [--json] [LM options]
  cli.ts serve [--port 8080] [--host 127.0.0.1] [--index-dir DIR] [--k 4] [LM options]

LM options: --lm MODEL_FOLDER (default models/tiny/tiny-gpt2), or an OpenAI-compatible server:
  --openai-base-url URL (e.g. http://127.0.0.1:8000/v1) --openai-model NAME [--chat]
  (also $EMBEDFLOW_RAG_OPENAI_BASE_URL, $EMBEDFLOW_RAG_OPENAI_MODEL; key from $OPENAI_API_KEY)
Index folder default: $EMBEDFLOW_RAG_INDEX or <repo>/.embedflow/rag-index`

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    help: { type: "boolean", short: "h" },
    "index-dir": { type: "string", default: process.env.EMBEDFLOW_RAG_INDEX ?? defaultIndexDir() },
    encoder: { type: "string" },
    pooling: { type: "string", default: "mean" },
    unit: { type: "string", default: "words" },
    "chunk-size": { type: "string" },
    overlap: { type: "string" },
    index: { type: "string", default: "flat" },
    k: { type: "string", default: "4" },
    "min-score": { type: "string", default: "0.1" },
    "max-new-tokens": { type: "string" },
    json: { type: "boolean" },
    lm: { type: "string" },
    "openai-base-url": { type: "string", default: process.env.EMBEDFLOW_RAG_OPENAI_BASE_URL },
    "openai-model": { type: "string", default: process.env.EMBEDFLOW_RAG_OPENAI_MODEL },
    chat: { type: "boolean" },
    port: { type: "string", default: "8080" },
    host: { type: "string", default: "127.0.0.1" }
  }
})

const die = (message: string): never => {
  console.error(message)
  process.exit(2)
}

const int = (name: string, raw: string | undefined, min: number): number | undefined => {
  if (raw === undefined) return undefined
  const n = Number(raw)
  return Number.isSafeInteger(n) && n >= min ? n : die(`--${name} must be an integer >= ${min}, got ${raw}`)
}

const lmSpec = (): LmSpec | undefined => {
  const base = values["openai-base-url"]
  const model = values["openai-model"]
  if (base !== undefined || model !== undefined) {
    if (!base || !model) return die("an OpenAI-compatible LM needs both --openai-base-url and --openai-model")
    if (values.lm) return die("give either --lm or --openai-base-url/--openai-model, not both")
    return { kind: "openai", baseUrl: base, model, chat: values.chat ?? false }
  }
  return values.lm ? { kind: "local", model: values.lm } : undefined
}

const ragOptions = () => ({
  indexDir: values["index-dir"]!,
  lm: lmSpec(),
  k: int("k", values.k, 1),
  minScore: Number.isFinite(Number(values["min-score"])) ? Number(values["min-score"]) : die(`--min-score must be a number, got ${values["min-score"]}`),
  maxNewTokens: int("max-new-tokens", values["max-new-tokens"], 1)
})

/** Runs a program with a model hub; a RagError prints its message and exits 1. */
const main = async <A>(program: Effect.Effect<A, RagError, never>): Promise<A> => {
  const exit = await Effect.runPromiseExit(program)
  if (Exit.isSuccess(exit)) return exit.value
  const error = exit.cause.reasons.map((r) => (r as { error?: RagError }).error).find((e) => e !== undefined)
  console.error(`error: ${error?.message ?? String(exit.cause)}`)
  process.exit(1)
}

const [command, ...rest] = positionals
if (values.help || command === undefined) {
  console.log(USAGE)
  process.exit(command === undefined && !values.help ? 2 : 0)
}

if (command === "ingest") {
  const folder = rest[0] ?? die(`ingest needs a folder\n${USAGE}`)
  const unit = values.unit === "chars" || values.unit === "words" ? values.unit : die(`--unit must be words or chars, got ${values.unit}`)
  const chunking: ChunkOptions = {
    unit,
    size: int("chunk-size", values["chunk-size"], 1) ?? (unit === "words" ? 80 : 500),
    overlap: int("overlap", values.overlap, 0) ?? (unit === "words" ? 20 : 100)
  }
  const index = ["flat", "hnsw", "exact"].includes(values.index!) ? (values.index as IndexKind) : die(`--index must be flat, hnsw or exact, got ${values.index}`)
  const pooling = values.pooling === "mean" || values.pooling === "cls" ? values.pooling : die(`--pooling must be mean or cls, got ${values.pooling}`)
  const report = await main(
    ingest({
      folder,
      indexDir: values["index-dir"]!,
      encoder: { ...(values.encoder ? { model: values.encoder } : {}), pooling },
      chunking,
      index,
      onProgress: (done, total) => process.stderr.write(`\rembedded ${done}/${total} chunks`)
    }).pipe(Effect.provide(layerModelHub()))
  )
  process.stderr.write("\n")
  if (report.skipped.length > 0) {
    console.log(`skipped ${report.skipped.length} file(s):`)
    for (const s of report.skipped) console.log(`  ${s.file}: ${s.reason}`)
  }
  console.log(
    `indexed ${report.chunks} chunks from ${report.files} files into ${report.indexDir}\n` +
      `encoder ${report.encoder.model} (dim ${report.dim}, loaded in ${report.loadSeconds.toFixed(1)} s), index ${report.index}\n` +
      `embedding: ${report.embedSeconds.toFixed(2)} s, ${report.chunksPerSecond.toFixed(0)} chunks/s`
  )
} else if (command === "ask") {
  const question = rest.join(" ")
  if (question.trim() === "") die(`ask needs a question\n${USAGE}`)
  const answer = await main(
    Effect.scoped(Effect.gen(function* () {
      const rag = yield* makeRag(ragOptions())
      return yield* rag.ask(question)
    })).pipe(Effect.provide(layerModelHub()))
  )
  if (values.json) console.log(JSON.stringify(answer, null, 2))
  else if (answer.noHits) console.log("No passage in the index matches this question.")
  else {
    console.log(answer.answer === "" ? "(the model returned no text)" : answer.answer)
    console.log(`\nsources (${answer.citations.length > 0 ? `cited: ${answer.citations.map((n) => `[${n}]`).join(" ")}` : "the answer cites none; all passages given"}):`)
    for (const s of answer.sources) {
      console.log(`  [${s.n}]${s.cited ? "*" : " "} ${s.chunk.id}  score ${s.score.toFixed(3)}${s.chunk.heading ? `  (${s.chunk.heading})` : ""}`)
    }
    console.log(`retrieval ${answer.retrieveMs.toFixed(0)} ms, generation ${answer.generateMs.toFixed(0)} ms`)
  }
} else if (command === "serve") {
  const port = int("port", values.port, 0)!
  await main(
    Effect.scoped(Effect.gen(function* () {
      const rag = yield* makeRag(ragOptions())
      const server = yield* Effect.promise(() => startServer(rag, { port, host: values.host }))
      console.log(`serving ${rag.meta.count} chunks from ${rag.meta.files.length} files at ${server.url} (Ctrl-C stops)`)
      // Until SIGINT/SIGTERM; then the server closes and the scope releases the models.
      yield* Effect.callback<void>((resume) => {
        const stop = () => resume(Effect.void)
        process.once("SIGINT", stop)
        process.once("SIGTERM", stop)
      })
      yield* Effect.promise(() => server.close())
    })).pipe(Effect.provide(layerModelHub()))
  )
} else {
  die(`unknown command ${JSON.stringify(command)}\n${USAGE}`)
}
