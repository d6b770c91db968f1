import { spawn } from "node:child_process"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { serve } from "../src/commands/serve.js"
import { type Io, main } from "../src/index.js"

const repoRoot = path.resolve(import.meta.dirname, "../../..")
const tinyBert = path.join(repoRoot, "models/tiny/tiny-bert")

const capture = () => {
  const out: Array<string> = []
  const err: Array<string> = []
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), stderr: process.stderr }
  return { io, out, err }
}

describe("embedflow serve", () => {
  it("bad usage exits 2 with the serve usage; a model that cannot load exits 1", async () => {
    const cases: Array<[Array<string>, RegExp]> = [
      [["serve"], /Missing required flag: --model/],
      [["serve", "--model", tinyBert, "--port", "70000"], /--port: "70000"\. Expected: a port number, 0 to 65535/],
      [["serve", "--model", tinyBert, "--pooling", "max"], /--pooling: "max"\. Expected: "mean" \| "cls" \| "last-token"/],
      [["serve", "--model", tinyBert, "--bogus"], /Unrecognized flag: --bogus/]
    ]
    for (const [argv, message] of cases) {
      const c = capture()
      expect(await main(argv, c.io), argv.join(" ")).toBe(2)
      expect(c.err.join("\n")).toMatch(message)
      expect(c.err.join("\n")).toContain("embedflow serve --model")
    }
    const c = capture()
    expect(await main(["serve", "--model", "/nonexistent/model", "--port", "0"], c.io)).toBe(1)
    expect(c.err.join("\n")).toMatch(/cannot start the server: .*nonexistent/)
  })

  it("serves the named models until stopped, then drains and exits 0", async () => {
    const c = capture()
    let answered: unknown
    const code = await serve(["--model", `mini=${tinyBert}`, "--port", "0"], c.io, async (server) => {
      const res = await fetch(`${server.url}/v1/embeddings`, { method: "POST", body: JSON.stringify({ model: "mini", input: ["hello"] }) })
      answered = await res.json()
    })
    expect(code).toBe(0)
    expect((answered as { data: Array<{ embedding: Array<number> }> }).data[0]!.embedding).toHaveLength(32)
    expect(c.out.join("\n")).toMatch(/mini: embeddings, 32 dimensions/)
    expect(c.out.join("\n")).toMatch(/serving on http:\/\/127\.0\.0\.1:\d+/)
  })

  it("--model repeats: each one is served under its id", async () => {
    const c = capture()
    let ids: Array<string> = []
    const code = await serve(["--model", `a=${tinyBert}`, "--model", `b=${tinyBert}`, "--port", "0", "--threads", "1"], c.io, async (server) => {
      ids = ((await (await fetch(`${server.url}/v1/models`)).json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)
    })
    expect(code).toBe(0)
    expect(ids).toEqual(["a", "b"])
  })

  it("as a process: SIGTERM drains and exits 0", async () => {
    const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", path.join(repoRoot, "packages/cli/src/bin.ts"), "serve", "--model", tinyBert, "--port", "0"], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"]
    })
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    let text = ""
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no 'serving on' line within 60 s: ${text}`)), 60_000)
        child.stdout.on("data", (d: Buffer) => {
          text += d.toString()
          const m = /serving on (http:\/\/\S+)/.exec(text)
          if (m) {
            clearTimeout(timer)
            resolve(m[1]!)
          }
        })
      })
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> }
      expect(models.data.map((m) => m.id)).toEqual(["tiny-bert"])
      child.kill("SIGTERM")
      expect(await exited).toBe(0)
      expect(text).toContain("shutting down: draining in-flight requests")
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL")
    }
  })
})
