import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { makeModelHub, ModelHub } from "@embedflow/models"
import { Effect, Exit, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { ingest, MAX_BODY_BYTES, makeRag, type RunningServer, startServer } from "../src/index.js"

const tmp = mkdtempSync(join(tmpdir(), "embedflow-rag-server-"))
const scope = Effect.runSync(Scope.make())
let server: RunningServer

beforeAll(async () => {
  const rag = await Effect.runPromise(
    Effect.gen(function* () {
      const hub = yield* makeModelHub()
      const indexDir = join(tmp, "index")
      yield* ingest({ folder: resolve(import.meta.dirname, "../docs"), indexDir, encoder: { model: inject("glove") } }).pipe(Effect.provideService(ModelHub, hub))
      return yield* makeRag({ indexDir, lm: { kind: "local", model: join(inject("tinyModels"), "tiny-gpt2") }, maxNewTokens: 4 }).pipe(Effect.provideService(ModelHub, hub))
    }).pipe(Scope.provide(scope))
  )
  server = await startServer(rag, { port: 0 })
})

afterAll(async () => {
  await server?.close()
  await Effect.runPromise(Scope.close(scope, Exit.void))
  rmSync(tmp, { recursive: true, force: true })
})

const ask = (body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = { "content-type": "application/json" }) =>
  fetch(new URL("api/ask", server.url), { method: "POST", body, headers, ...(body instanceof ReadableStream ? { duplex: "half" } : {}) } as RequestInit)

describe("request bodies over the limit", () => {
  it("a declared body over 64 KiB gets 413 with a JSON error, before it is read", async () => {
    const res = await ask(JSON.stringify({ question: "x".repeat(MAX_BODY_BYTES) }))
    expect(res.status).toBe(413)
    expect(await res.json()).toEqual({ error: `request body over ${MAX_BODY_BYTES} bytes (the limit for POST /api/ask)` })
  })

  it("a chunked body (no content-length) gets 413 once it passes the limit; one just under it is read", async () => {
    const chunk = new Uint8Array(16 * 1024).fill(0x20)
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(chunk) // 80 KiB
        controller.close()
      }
    })
    const res = await ask(stream)
    expect(res.status).toBe(413)
    const under = JSON.stringify({ question: "How does a killed run resume?" }).padEnd(MAX_BODY_BYTES, " ")
    const ok = await ask(under)
    expect(ok.status).toBe(200)
    expect(((await ok.json()) as { sources: Array<unknown> }).sources.length).toBeGreaterThan(0)
  })
})

describe("security headers", () => {
  it("every response carries CSP, nosniff and Referrer-Policy: the page, JSON, 400, 404 and 413", async () => {
    const responses = [
      await fetch(server.url),
      await fetch(new URL("api/info", server.url)),
      await ask(JSON.stringify({ question: "How does a killed run resume?" })),
      await ask("not json"),
      await fetch(new URL("nope", server.url)),
      await ask("x".repeat(MAX_BODY_BYTES + 1))
    ]
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 400, 404, 413])
    for (const r of responses) {
      const csp = r.headers.get("content-security-policy") ?? ""
      expect(csp).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/]{43}='; style-src 'sha256-[A-Za-z0-9+/]{43}='; connect-src 'self';/)
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).not.toContain("unsafe-inline")
      expect(r.headers.get("x-content-type-options")).toBe("nosniff")
      expect(r.headers.get("referrer-policy")).toBe("no-referrer")
      await r.arrayBuffer()
    }
  })

  it("the CSP hashes are those of the page's inline script and style", async () => {
    const res = await fetch(server.url)
    const page = await res.text()
    const { createHash } = await import("node:crypto")
    const hash = (tag: string) => createHash("sha256").update(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(page)![1]!).digest("base64")
    const csp = res.headers.get("content-security-policy")!
    expect(csp).toContain(`script-src 'sha256-${hash("script")}'`)
    expect(csp).toContain(`style-src 'sha256-${hash("style")}'`)
  })
})
