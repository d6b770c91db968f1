import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { Effect, Exit } from "effect"
import { CONTENT_SECURITY_POLICY, PAGE } from "./internal/page.js"
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

/** Largest accepted request body; larger ones get 413. */
export const MAX_BODY_BYTES = 64 * 1024

/** Sent with every response, errors included. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin"
}

const send = (res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}) => {
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...extra })
  res.end(JSON.stringify(body))
}

class BodyTooLarge extends Error {}

/** The body as UTF-8, or BodyTooLarge as soon as the declared or received size passes MAX_BODY_BYTES. */
const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((ok, fail) => {
    const tooLarge = () => {
      // Keep discarding what the client still sends, so it reads the 413 instead of a reset.
      req.removeAllListeners("data")
      req.resume()
      fail(new BodyTooLarge(`request body over ${MAX_BODY_BYTES} bytes (the limit for POST /api/ask)`))
    }
    if (Number(req.headers["content-length"]) > MAX_BODY_BYTES) return tooLarge()
    let size = 0
    const parts: Array<Buffer> = []
    req.on("data", (b: Buffer) => {
      size += b.length
      if (size > MAX_BODY_BYTES) tooLarge()
      else parts.push(b)
    })
    req.on("end", () => ok(Buffer.concat(parts).toString("utf8")))
    req.on("error", fail)
  })

/**
 * Serves the page at "/", `GET /api/info` (index stats) and `POST /api/ask` with
 * `{ question, k? }` -> an Answer as JSON (400 with `{ error }` for bad input, 413 for a body over
 * 64 KiB, 500 for model failures). Every response carries SECURITY_HEADERS.
 */
export const startServer = (rag: Rag, options: ServerOptions): Promise<RunningServer> => {
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://localhost")
      if (req.method === "GET" && url.pathname === "/") {
        res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/html; charset=utf-8", "cache-control": "no-store" })
        res.end(PAGE)
      } else if (req.method === "GET" && url.pathname === "/api/info") {
        const m = rag.meta
        send(res, 200, { files: m.files.length, chunks: m.count, encoder: m.encoder.model.split("/").at(-1), index: m.index, lm: rag.lm.split("/").at(-1) })
      } else if (req.method === "POST" && url.pathname === "/api/ask") {
        let body: { question?: unknown; k?: unknown }
        try {
          body = JSON.parse(await readBody(req)) as typeof body
        } catch (e) {
          if (e instanceof BodyTooLarge) return send(res, 413, { error: e.message }, { connection: "close" })
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
      if (!res.headersSent) send(res, 500, { error: (e as Error).message })
      else res.destroy()
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
