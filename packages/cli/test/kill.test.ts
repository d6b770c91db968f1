import { spawn } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const here = path.dirname(fileURLToPath(import.meta.url))
const bin = path.join(here, "../src/bin.ts")
const graph = path.join(here, "fixtures/slow.yaml")

const events = async (runDir: string) =>
  (await fs.readFile(path.join(runDir, "run.jsonl"), "utf8").catch(() => ""))
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; nodeId?: string })

const runDirs = async (store: string) => {
  const base = path.join(store, "runs", "cli-slow")
  return (await fs.readdir(base).catch(() => [] as Array<string>)).map((d) => path.join(base, d)).sort()
}

describe("a run stopped from outside (SIGKILL, SIGINT)", () => {
  it("resumes without recomputing the nodes that finished, and removes what the killed run left", async () => {
    const store = await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-kill-"))
    const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", bin, "run", graph, "--store", store], { stdio: "ignore" })
    // Wait until the middle node is running, then kill the process outright.
    const deadline = Date.now() + 60_000
    for (;;) {
      const [dir] = await runDirs(store)
      if (dir && (await events(dir)).some((e) => e.type === "node-started" && e.nodeId === "slow")) break
      if (Date.now() > deadline) throw new Error("the slow node never started")
      await new Promise((r) => setTimeout(r, 100))
    }
    child.kill("SIGKILL")
    await new Promise((r) => child.once("exit", r))

    const cache = path.join(store, "cache")
    const entries = (await fs.readdir(cache, { recursive: true })) as Array<string>
    expect(entries.filter((e) => e.endsWith("manifest.json"))).toHaveLength(1) // only `count` finished
    // The killed node's scratch folder (named by its owner) and a temp entry the kill cut short are left...
    const leftoverTemp = path.join(cache, "00", `.00dead.tmp-@${os.hostname().replace(/[^A-Za-z0-9.-]/g, "_")}~${child.pid}-0123abcd`)
    await fs.mkdir(leftoverTemp, { recursive: true })
    expect((await fs.readdir(path.join(store, "scratch"))).filter((n) => n.includes(`~${child.pid}-`))).toHaveLength(1)

    // Resume with a fast middle node: `count` comes from the cache, the rest is computed.
    const fast = path.join(here, "fixtures/.slow-resumed.yaml")
    await fs.writeFile(fast, (await fs.readFile(graph, "utf8")).replace("ms: 60000", "ms: 10"))
    try {
      const resumed = spawn(process.execPath, ["--conditions=source", "--import", "tsx", bin, "run", fast, "--store", store], { stdio: "ignore" })
      const code = await new Promise((r) => resumed.once("exit", r))
      expect(code).toBe(0)
    } finally {
      await fs.rm(fast, { force: true })
    }
    // ...and removed when the next run starts.
    expect(await fs.readdir(path.join(store, "scratch"))).toEqual([])
    expect(await fs.readdir(path.join(cache, "00"))).toEqual([])
    const dirs = await runDirs(store)
    const log = await events(dirs.at(-1)!)
    expect(log.filter((e) => e.type === "node-cached").map((e) => e.nodeId)).toEqual(["count"])
    expect(log.filter((e) => e.type === "node-finished").map((e) => e.nodeId)).toEqual(["slow", "report"])
  }, 120_000)

  it("SIGINT interrupts the run: its scratch folder is removed and the process exits 130", async () => {
    const store = await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-sigint-"))
    try {
      const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", bin, "run", graph, "--store", store], { stdio: "ignore" })
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
      const deadline = Date.now() + 60_000
      for (;;) {
        const [dir] = await runDirs(store)
        if (dir && (await events(dir)).some((e) => e.type === "node-started" && e.nodeId === "slow")) break
        if (Date.now() > deadline) throw new Error("the slow node never started")
        await new Promise((r) => setTimeout(r, 100))
      }
      expect((await fs.readdir(path.join(store, "scratch"))).filter((n) => n.includes(`~${child.pid}-`))).toHaveLength(1)
      child.kill("SIGINT")
      expect(await exited).toBe(130)
      // Unlike SIGKILL, the interruption ran the node's finalizers: nothing is left for the next run to clean.
      expect(await fs.readdir(path.join(store, "scratch"))).toEqual([])
    } finally {
      await fs.rm(store, { recursive: true, force: true })
    }
  }, 120_000)
})
