/**
 * The HTTP server, on node:http: effect 4.1's `effect/http` server needs a platform binding, and
 * `@effect/platform-node` 4.1.0 requires Node ≥ 22.19 while this project runs on Node 20. It listens on 127.0.0.1 unless told otherwise,
 * refuses bodies over the limit with 413 and malformed JSON with 400, and on close stops
 * accepting, answers 503 to requests that arrive while it drains, waits for the in-flight ones to
 * finish (bounded), then releases the models.
 */
import { Effect, Exit, Scope } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { ModelError } from "@embedflow/models"
import { ApiError, embeddings, listModels, rerank } from "./Api.js"
import { ServerMetrics } from "./Metrics.js"
import { loadModel, type ServedModel } from "./ServedModel.js"
import { defaults, type ServeOptions } from "./ServeOptions.js"

export interface ServerHandle {
  /** e.g. http://127.0.0.1:8080 */
  readonly url: string
  readonly host: string
  readonly port: number
  readonly models: ReadonlyMap<string, ServedModel>
  readonly metrics: ServerMetrics
  /** Requests being handled right now. */
  readonly inFlight: () => number
  /** Graceful shutdown: stop accepting, drain in-flight requests (bounded), release the models. Idempotent. */
  readonly close: () => Promise<void>
}

const ROUTES: Record<string, ReadonlyArray<string>> = {
  "/v1/embeddings": ["POST"],
  "/embeddings": ["POST"],
  "/rerank": ["POST"],
  "/v1/models": ["GET"],
  "/health": ["GET"],
  "/metrics": ["GET"]
}

const readBody = (req: http.IncomingMessage, limit: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"])
    if (Number.isFinite(declared) && declared > limit) {
      reject(new ApiError(413, `request body of ${declared} bytes exceeds the limit of ${limit} bytes`, "invalid_request_error"))
      return
    }
    const chunks: Array<Buffer> = []
    let size = 0
    let done = false
    req.on("data", (chunk: Buffer) => {
      if (done) return
      size += chunk.length
      if (size > limit) {
        done = true
        reject(new ApiError(413, `request body exceeds the limit of ${limit} bytes`, "invalid_request_error"))
        return
      }
      chunks.push(chunk)
    })
    req.on("end", () => {
      if (!done) resolve(Buffer.concat(chunks))
    })
    req.on("error", (e) => {
      if (!done) reject(e)
    })
  })

const parseJson = (body: Buffer): unknown => {
  if (body.length === 0) throw new ApiError(400, "the request body is empty; expected a JSON object")
  try {
    return JSON.parse(body.toString("utf8"))
  } catch (e) {
    throw new ApiError(400, `malformed JSON in the request body: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/** Opens the models and listens; the server closes gracefully when the scope closes. */
export const makeServer = (options: ServeOptions): Effect.Effect<ServerHandle, ModelError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const handle = yield* Effect.tryPromise({
        try: () => listen(options, scope),
        catch: (e) => (e instanceof ModelError ? e : new ModelError({ message: `serve: ${e instanceof Error ? e.message : String(e)}`, model: "", cause: e }))
      }).pipe(Effect.onError(() => Scope.close(scope, Exit.void)))
      return handle
    }),
    (handle) => Effect.promise(() => handle.close())
  )

/** Opens the models and listens; `close()` shuts down gracefully. */
export const startServer = async (options: ServeOptions): Promise<ServerHandle> => {
  const scope = await Effect.runPromise(Scope.make())
  try {
    return await listen(options, scope)
  } catch (e) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw e
  }
}

const listen = async (options: ServeOptions, scope: Scope.Closeable): Promise<ServerHandle> => {
  if (options.models.length === 0) throw new Error("no models to serve (give at least one --model)")
  const ids = new Set<string>()
  for (const m of options.models) {
    if (ids.has(m.id)) throw new Error(`two models are named '${m.id}'; name them apart with --model id=folder`)
    ids.add(m.id)
  }
  const metrics = new ServerMetrics()
  const loaded = await Effect.runPromise(Scope.provide(scope)(Effect.forEach(options.models, (spec) => loadModel(spec, options, metrics))))
  const models = new Map(loaded.map((m) => [m.id, m]))
  const limits = { maxInputs: options.maxInputs ?? defaults.maxInputs }
  const maxBodyBytes = options.maxBodyBytes ?? defaults.maxBodyBytes
  const created = Math.floor(Date.now() / 1000)
  let inFlight = 0
  let draining = false
  let drained: (() => void) | undefined

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}, contentType = "application/json") => {
    const text = typeof body === "string" ? body : JSON.stringify(body)
    res.writeHead(status, {
      "content-type": contentType,
      "content-length": Buffer.byteLength(text),
      ...(draining ? { connection: "close" } : {}),
      ...headers
    })
    res.end(text)
  }

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, route: string): Promise<void> => {
    switch (route) {
      case "/health":
        return send(res, draining ? 503 : 200, { status: draining ? "draining" : "ok", models: [...models.keys()] })
      case "/metrics":
        return send(res, 200, metrics.render(), {}, "text/plain; version=0.0.4; charset=utf-8")
      case "/v1/models":
        return send(res, 200, listModels(models, created))
    }
    const body = parseJson(await readBody(req, maxBodyBytes))
    if (route === "/rerank") return send(res, 200, await rerank(models, body, limits))
    return send(res, 200, await embeddings(models, body, limits))
  }

  const server = http.createServer((req, res) => {
    const started = performance.now()
    const url = new URL(req.url ?? "/", "http://localhost")
    const known = ROUTES[url.pathname]
    const route = known ? url.pathname : "other"
    inFlight++
    res.on("close", () => {
      metrics.requests.inc({ route, status: String(res.statusCode) })
      metrics.latency.observe({ route }, (performance.now() - started) / 1000)
      if (--inFlight === 0 && drained) drained()
    })
    const fail = (e: unknown) => {
      const error = e instanceof ApiError ? e : new ApiError(500, `internal error: ${e instanceof Error ? e.message : String(e)}`, "server_error")
      if (res.headersSent) {
        res.destroy()
        return
      }
      send(res, error.status, error.body(), error.status === 413 ? { ...error.headers, connection: "close" } : error.headers)
      // An oversized body is not read to its end: close the connection rather than drain it.
      if (error.status === 413) res.on("finish", () => req.destroy())
    }
    if (draining) return fail(new ApiError(503, "the server is shutting down", "server_error"))
    if (!known) return fail(new ApiError(404, `no route ${req.method} ${url.pathname}; routes: ${Object.keys(ROUTES).join(", ")}`, "invalid_request_error"))
    if (!known.includes(req.method ?? "")) return fail(new ApiError(405, `${url.pathname} accepts ${known.join(", ")}, not ${req.method}`, "invalid_request_error", null, { allow: known.join(", ") }))
    handle(req, res, route).catch(fail)
  })
  server.keepAliveTimeout = 5_000

  const host = options.host ?? defaults.host
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? defaults.port, host, () => {
      server.off("error", reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo

  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= (async () => {
      draining = true
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      if (inFlight > 0) {
        const timeout = options.drainTimeoutMs ?? defaults.drainTimeoutMs
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeout)
          drained = () => {
            clearTimeout(timer)
            resolve()
          }
        })
      }
      server.closeAllConnections()
      await stopped
      await Effect.runPromise(Scope.close(scope, Exit.void))
    })())

  const urlHost = host.includes(":") ? `[${host}]` : host
  return { url: `http://${urlHost}:${port}`, host, port, models, metrics, inFlight: () => inFlight, close }
}
