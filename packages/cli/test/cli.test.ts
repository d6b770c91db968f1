import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { formatProgress, type Io, main } from "../src/index.js"
import { pluginTemplate } from "../src/commands/newPlugin.js"

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

const capture = () => {
  const out: Array<string> = []
  const err: Array<string> = []
  const stderr = { write: (t: string) => (err.push(t), true), isTTY: false, columns: 80 } as unknown as NodeJS.WriteStream
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), stderr }
  return { io, out, err, text: () => out.join("\n"), errText: () => err.join("") }
}

describe("embedflow CLI", () => {
  it("runs a graph, prints its report, and serves the re-run from the cache", async () => {
    const store = await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-cli-"))
    const first = capture()
    expect(await main(["run", fixture("ok.yaml"), "--store", store], first.io)).toBe(0)
    expect(first.text()).toContain("| 10 |")
    expect(first.errText()).toMatch(/count: 5\/5 steps 100%/)
    expect(first.errText()).toMatch(/2 computed, 0 cached/)

    const second = capture()
    expect(await main(["run", fixture("ok.yaml"), "--store", store], second.io)).toBe(0)
    expect(second.errText()).toMatch(/0 computed, 2 cached/)
  })

  it("runs nodes on worker threads with --workers, with the same outputs, progress and failures", async () => {
    const inProcess = capture()
    expect(await main(["run", fixture("threads.yaml"), "--store", await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-cli-"))], inProcess.io)).toBe(0)
    expect(inProcess.text()).toMatch(/\| a thread \|\n\|---\|\n\| 0 \|/)
    const threaded = capture()
    expect(await main(["run", fixture("threads.yaml"), "--store", await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-cli-")), "--workers", "2"], threaded.io)).toBe(0)
    const threads = [...threaded.text().matchAll(/\| (\d+) \|/g)].map((m) => Number(m[1]))
    expect(threads).toHaveLength(2)
    expect(threads.every((t) => t > 0)).toBe(true)

    const ok = capture()
    expect(await main(["run", fixture("ok.yaml"), "--store", await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-cli-")), "--workers", "auto"], ok.io)).toBe(0)
    expect(ok.text()).toContain("| 10 |")
    expect(ok.errText()).toMatch(/count: 5\/5 steps 100%/)
    const failed = capture()
    expect(await main(["run", fixture("fails.yaml"), "--store", await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-cli-")), "--workers", "2"], failed.io)).toBe(1)
    expect(failed.errText()).toContain("node 'count': failed at 3")
  })

  it("exits 2 and lists every problem of an invalid graph", async () => {
    const c = capture()
    expect(await main(["validate", fixture("bad.yaml")], c.io)).toBe(2)
    expect(c.errText()).toContain("2 problems")
    expect(c.errText()).toContain("node 'count' at params.n: Expected number")
    expect(c.errText()).toContain("node 'report' at stage: unknown stage 'fx/reprt' (did you mean 'fx/report'?)")
  })

  it("exits 1 naming the failed node when a stage fails", async () => {
    const store = await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-cli-"))
    const c = capture()
    expect(await main(["run", fixture("fails.yaml"), "--store", store], c.io)).toBe(1)
    expect(c.errText()).toContain("node 'count': failed at 3")
    expect(c.errText()).toContain("node 'report' (skipped)")
  })

  it("validates and renders a graph", async () => {
    const v = capture()
    expect(await main(["validate", fixture("ok.yaml")], v.io)).toBe(0)
    expect(v.text()).toContain("valid (2 nodes, 1 edges; order: count → report)")
    const g = capture()
    expect(await main(["graph", fixture("ok.yaml"), "--format", "dot"], g.io)).toBe(0)
    expect(g.text()).toContain('"count" -> "report"')
  })

  it("rejects bad usage with exit 2", async () => {
    const c = capture()
    expect(await main(["frobnicate"], c.io)).toBe(2)
    expect(c.errText()).toContain('Unknown subcommand "frobnicate" for "embedflow"')
    expect(await main(["run", fixture("ok.yaml"), "--concurrency", "zero"], capture().io)).toBe(2)
    expect(await main(["run"], capture().io)).toBe(2)
  })

  it("formats progress with count, rate and ETA", () => {
    expect(
      formatProgress({ type: "node-progress", time: "", nodeId: "n", done: 1200, total: 5000, unit: "texts", rate: 400, etaSeconds: 9.5 })
    ).toBe("1,200/5,000 texts 24%  400 texts/s  ETA 9.5s")
  })

  it("scaffolds a plugin whose stage loads and runs", async () => {
    const files = pluginTemplate("my-plugin")
    expect(Object.keys(files).sort()).toEqual(
      ["README.md", "example.yaml", "package.json", "src/MyPlugin.ts", "src/index.ts", "test/MyPlugin.test.ts", "tsconfig.json", "vitest.config.ts"].sort()
    )
    // Written inside the repo so that its imports resolve like a real workspace package's.
    const dir = await fs.mkdtemp(path.join(fileURLToPath(new URL("../../../plugins/", import.meta.url)), ".scaffold-"))
    try {
      for (const [file, content] of Object.entries(files)) {
        await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true })
        await fs.writeFile(path.join(dir, file), content)
      }
      const mod = (await import(path.join(dir, "src/index.ts"))) as { plugin: { stages: Array<{ name: string }> } }
      expect(mod.plugin.stages.map((s) => s.name)).toEqual(["my-plugin/upper-case"])
    } finally {
      await fs.rm(dir, { recursive: true, force: true })
    }
  })
})
