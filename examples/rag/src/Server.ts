import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { Effect, Exit } from "effect"
import { PAGE } from "./internal/page.js"
import type { Rag } from "./Rag.js"
import type { RagError } from "./RagError.js"

export interface ServerOptions {
  /** 0 picks a free port. */
  readonly port: number
  /** Default 127.0.0.1 (local only). */
  readonly host?: string | undefined
}

export interface RunningServer {
  readonly url: string
  readonly close: () => Promise<void>
}

const MAX_BODY = 64 * 1024

const send = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" })
  res.end(JSON.stringify(body))
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((ok, fail) => {
    let size = 0
    const parts: Array<Buffer> = []
    req.on("data", (b: Buffer) => {
      size += b.length
      if (size > MAX_BODY) fail(new Error(`request body over ${MAX_BODY} bytes`))
      else parts.push(b)
    })
    req.on("end", () => ok(Buffer.concat(parts).toString("utf8")))
    req.on("error", fail)
  })

/**
 * Serves the page at "/", `GET /api/info` (index stats) and `POST /api/ask` with
 * `{ question, k? }` -> an Answer as JSON (400 with `{ error }` for bad input, 500 for model failures).
 */
export const startServer = (rag: Rag, options: ServerOptions): Promise<RunningServer> => {
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://localhost")
      if (req.method === "GET" && url.pathname === "/") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" })
        res.end(PAGE)
      } else if (req.method === "GET" && url.pathname === "/api/info") {
        const m = rag.meta
        send(res, 200, { files: m.files.length, chunks: m.count, encoder: m.encoder.model.split("/").at(-1), index: m.index, lm: rag.lm.split("/").at(-1) })
      } else if (req.method === "POST" && url.pathname === "/api/ask") {
        let body: { question?: unknown; k?: unknown }
        try {
          body = JSON.parse(await readBody(req)) as typeof body
        } catch (e) {
          return send(res, 400, { error: `expected a JSON body { "question": string, "k"?: number }: ${(e as Error).message}` })
        }
        if (typeof body?.question !== "string") return send(res, 400, { error: 'expected a JSON body { "question": string, "k"?: number }' })
        const k = body.k === undefined || body.k === null ? undefined : Number(body.k)
        const exit = await Effect.runPromiseExit(rag.ask(body.question, { k }))
        if (Exit.isSuccess(exit)) return send(res, 200, exit.value)
        const error = exit.cause.reasons.map((r) => (r as { error?: RagError }).error).find((e) => e !== undefined)
        send(res, error?.reason === "BadInput" ? 400 : 500, { error: error?.message ?? "internal error" })
      } else {
        send(res, 404, { error: `no route ${req.method} ${url.pathname}` })
      }
    } catch (e) {
      send(res, 500, { error: (e as Error).message })
    }
  })
  const host = options.host ?? "127.0.0.1"
  return new Promise((ok, fail) => {
    server.once("error", fail)
    server.listen(options.port, host, () => {
      const address = server.address()
      const port = typeof address === "object" && address ? address.port : options.port
      ok({
        url: `http://${host}:${port}/`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          })
      })
    })
  })
}
