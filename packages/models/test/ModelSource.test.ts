import { Effect, Exit } from "effect"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { encoderConfig, makeEncoder, resolveModel } from "../src/index.js"
import { maxAbsDiff, run, tiny } from "./helpers.js"

// A stand-in for the Hugging Face hub on 127.0.0.1: GET /<org>/<name>/resolve/<revision>/<file>.
let server: Server
let host = ""
const requests: Array<string> = []
const cache = mkdtempSync(join(tmpdir(), "embedflow-hub-cache-"))

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? "")
    const m = /^\/acme\/(tiny-bert|broken)\/resolve\/main\/(.+)$/.exec(req.url ?? "")
    const file = m && m[1] === "tiny-bert" ? join(tiny("tiny-bert"), m[2]) : m ? join(tiny("tiny-bert"), m[2] === "onnx/model.onnx" ? "absent" : m[2]) : ""
    if (!m || !existsSync(file)) {
      res.writeHead(404).end("Entry not found")
      return
    }
    res.writeHead(200, { "content-type": "application/octet-stream" }).end(readFileSync(file))
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  host = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
})
afterAll(() => {
  server.close()
  rmSync(cache, { recursive: true, force: true })
})

describe("loading a hub id (remote enabled) from a local stub hub", () => {
  it("downloads the files once into the cache and embeds exactly like the local folder", async () => {
    const remote = { allowRemote: true, remoteHost: host, cacheDir: cache }
    const [fromHub, local, again] = await run(
      Effect.gen(function* () {
        const a = yield* makeEncoder(encoderConfig({ model: "acme/tiny-bert" }), remote)
        const b = yield* makeEncoder(encoderConfig({ model: tiny("tiny-bert") }))
        const texts = ["A man is playing a guitar.", "Kids."]
        const v1 = yield* a.embed(texts)
        const v2 = yield* b.embed(texts)
        const before = requests.length
        const resolved = yield* resolveModel("acme/tiny-bert", remote)
        return [v1, v2, { resolved, newRequests: requests.length - before }] as const
      })
    )
    expect(maxAbsDiff(fromHub, local)).toBe(0)
    expect(again.resolved.downloaded).toBe(true)
    expect(again.resolved.dir).toBe(join(cache, "acme/tiny-bert/main"))
    expect(existsSync(join(again.resolved.dir, "onnx/model.onnx"))).toBe(true)
    // Optional files that 404 are retried; the required ones are cached.
    expect(requests.filter((u) => u.endsWith("onnx/model.onnx")).length).toBe(1)
  })

  it("names the file the hub does not have", async () => {
    const exit = await Effect.runPromiseExit(resolveModel("acme/broken", { allowRemote: true, remoteHost: host, cacheDir: cache }))
    expect(Exit.isFailure(exit)).toBe(true)
    const msg = String(Exit.isFailure(exit) ? exit.cause : "")
    expect(msg).toContain("onnx/model.onnx")
    expect(msg).toContain("HTTP 404")
  })

  it("stays offline unless remote loading is enabled", async () => {
    const before = requests.length
    const exit = await Effect.runPromiseExit(resolveModel("acme/tiny-bert-2", { allowRemote: false, remoteHost: host, cacheDir: cache }))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(requests.length).toBe(before)
  })
})
