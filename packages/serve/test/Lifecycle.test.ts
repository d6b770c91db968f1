import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { makeServer, startServer } from "../src/index.js"
import { embedInProcess, maxAbsDiff, post, tiny } from "./helpers.js"

const body = (input: Array<string>) => JSON.stringify({ model: "tiny-bert", input, encoding_format: "float" })

/** Polls `cond` every 5 ms for at most `ms`. */
const until = async (cond: () => boolean, ms: number) => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe("server lifecycle", () => {
  it("a full queue answers 429 with Retry-After; the queued requests still succeed", async () => {
    // A long wait keeps the first requests queued while the others arrive.
    const server = await startServer({ models: [{ id: "tiny-bert", source: tiny("tiny-bert") }], port: 0, maxQueued: 4, maxWaitMs: 1500 })
    try {
      const responses = await Promise.all(Array.from({ length: 6 }, (_, i) => post(`${server.url}/v1/embeddings`, body([`text ${i}a`, `text ${i}b`]))))
      const statuses = responses.map((r) => r.status)
      expect(statuses.filter((s) => s === 200)).toHaveLength(2)
      expect(statuses.filter((s) => s === 429)).toHaveLength(4)
      for (const r of responses.filter((r) => r.status === 429)) {
        expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
        const json = (await r.json()) as { error: { message: string; type: string } }
        expect(json.error.type).toBe("rate_limit_error")
        expect(json.error.message).toMatch(/overloaded: the queue holds 4 of at most 4 inputs/)
      }
      for (const r of responses.filter((r) => r.status === 200)) expect(((await r.json()) as { data: Array<unknown> }).data).toHaveLength(2)
      const metrics = await (await fetch(`${server.url}/metrics`)).text()
      expect(metrics).toMatch(/^embedflow_requests_total\{route="\/v1\/embeddings",status="429"\} 4$/m)
    } finally {
      await server.close()
    }
  })

  it("graceful shutdown: stops accepting, finishes in-flight requests, then closes", async () => {
    const server = await startServer({ models: [{ id: "tiny-bert", source: tiny("tiny-bert") }], port: 0, maxWaitMs: 400 })
    const texts = ["in flight one", "in flight two", "in flight three"]
    const pending = texts.map((t) => post(`${server.url}/v1/embeddings`, body([t])))
    await until(() => server.inFlight() === 3, 5_000)
    const closed = server.close()
    let closedYet = false
    void closed.then(() => (closedYet = true))
    // New connections are refused at once...
    await expect(fetch(`${server.url}/health`)).rejects.toThrow()
    expect(closedYet).toBe(false)
    // ...while the in-flight requests complete with the right vectors.
    const responses = await Promise.all(pending)
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200])
    const got = await Promise.all(responses.map(async (r) => ((await r.json()) as { data: Array<{ embedding: Array<number> }> }).data[0]!.embedding))
    const ref = await embedInProcess({ model: tiny("tiny-bert") }, texts)
    expect(maxAbsDiff(got.flat(), ref.vectors)).toBeLessThan(1e-5)
    await closed
    expect(server.inFlight()).toBe(0)
  })

  it("as an Effect: the server closes with its scope, on the host it is given", async () => {
    const url = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const server = yield* makeServer({ models: [{ id: "m", source: tiny("tiny-bert") }], port: 0, host: "127.0.0.1" })
          expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
          const res = yield* Effect.promise(() => fetch(`${server.url}/health`))
          expect(res.status).toBe(200)
          return server.url
        })
      )
    )
    await expect(fetch(`${url}/health`)).rejects.toThrow()
  })

  it("refuses to start without models, with duplicate ids, or on a folder that is not a model", async () => {
    await expect(startServer({ models: [], port: 0 })).rejects.toThrow(/no models to serve/)
    const m = { id: "same", source: tiny("tiny-bert") }
    await expect(startServer({ models: [m, m], port: 0 })).rejects.toThrow(/two models are named 'same'/)
    await expect(startServer({ models: [{ id: "x", source: "/nonexistent/folder" }], port: 0 })).rejects.toThrow(/nonexistent/)
  })
})
