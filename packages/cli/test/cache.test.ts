import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { capture } from "./capture.js"
import { main } from "../src/index.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const fixture = (name: string) => path.join(here, "fixtures", name)
/** The built CLI, run as a user runs it: plain `node`, no TypeScript loader flags. */
const bin = path.join(here, "../dist/bin.js")

const cli = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    if (!existsSync(bin)) throw new Error("packages/cli is not built: run `bash tools/setup.sh`")
    execFile(process.execPath, [bin, ...args], { timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr })
    )
  })


const tempStore = () => fs.mkdtemp(path.join(os.tmpdir(), "embedflow-cli-cache-"))

const walk = async (dir: string): Promise<Array<string>> => (await fs.readdir(dir, { recursive: true })) as Array<string>

describe("a store shared by concurrent runs", () => {
  it("4 processes running one graph on one store all succeed and leave one entry per key", async () => {
    const store = await tempStore()
    const runs = await Promise.all([0, 1, 2, 3].map(() => cli(["run", fixture("concurrent.yaml"), "--store", store, "--quiet"])))
    for (const r of runs) expect(r.stderr).not.toContain("cannot store outputs")
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0])
    // Every process printed the same reports.
    const reports = runs.map((r) => r.stdout.split("\nrun log")[0]!.split("\n## ").sort().join("\n## "))
    expect(new Set(reports).size).toBe(1)
    const files = await walk(path.join(store, "cache"))
    expect(files.filter((f) => f.endsWith("manifest.json"))).toHaveLength(7)
    expect(files.filter((f) => f.includes(".tmp-"))).toEqual([])
    // And a fifth run is served wholly from the cache.
    const again = await cli(["run", fixture("concurrent.yaml"), "--store", store])
    expect(again.code).toBe(0)
    expect(again.stderr).toMatch(/0 computed, 7 cached/)
  }, 120_000)
})

describe("graph files and plugins", () => {
  it("runs a .ts graph (with a .ts plugin) on this Node through the built CLI", async () => {
    const store = await tempStore()
    const validated = await cli(["validate", fixture("graph.ts")])
    expect(validated.stderr).toBe("")
    expect(validated.code).toBe(0)
    expect(validated.stdout).toContain("valid (2 nodes, 1 edges; order: count → report)")
    const ran = await cli(["run", fixture("graph.ts"), "--store", store, "--quiet"])
    expect(ran.code).toBe(0)
    expect(ran.stdout).toContain("| 6 |")
  }, 60_000)

  it("reports every bad plugins: entry with its path and the file, exit 2", async () => {
    const c = capture()
    expect(await main(["validate", fixture("bad-plugins.yaml")], c.io)).toBe(2)
    const err = c.errText()
    expect(err).toContain(`${fixture("bad-plugins.yaml")}: 4 problems`)
    expect(err).toMatch(/graph at plugins\.0: cannot load plugin '\.\/no-such-plugin\.ts'/)
    expect(err).toMatch(/graph at plugins\.1: Expected string/)
    expect(err).toMatch(/graph at plugins\.3: cannot load plugin '@embedflow\/no-such-package'/)
    expect(err).toMatch(/graph at plugins\.4: cannot load plugin '\.\/ok\.yaml'/)
    expect(err).not.toContain("plugins.2")
  })
})

describe("run --dry-run, --explain and gc", () => {
  it("prints the plan, what went into a key, and what gc removed", async () => {
    const store = await tempStore()
    const plan = capture()
    expect(await main(["run", fixture("ok.yaml"), "--store", store, "--dry-run"], plan.io)).toBe(0)
    expect(plan.text()).toMatch(/plan for 'cli-ok': 2 nodes, 2 to run, 0 cached\n {2}count +fx\/count +[0-9a-f]{12} +runs/)
    expect(await main(["run", fixture("ok.yaml"), "--store", store, "--quiet"], capture().io)).toBe(0)
    const cached = capture()
    expect(await main(["run", fixture("ok.yaml"), "--store", store, "--dry-run"], cached.io)).toBe(0)
    expect(cached.text()).toContain("2 nodes, 0 to run, 2 cached")

    const explain = capture()
    expect(await main(["run", fixture("ok.yaml"), "--store", store, "--explain", "report"], explain.io)).toBe(0)
    expect(explain.text()).toMatch(/^node 'report': key [0-9a-f]{64} \(cached\)\n {2}stage: {3}fx\/report@1/)
    expect(explain.text()).toMatch(/input values: [0-9a-f]{64}\/values/)
    const unknown = capture()
    expect(await main(["run", fixture("ok.yaml"), "--store", store, "--explain", "nope"], unknown.io)).toBe(2)
    expect(unknown.errText()).toContain("no node 'nope'")

    // --quiet hides progress, not a corrupt entry being replaced.
    const entries = (await fs.readdir(path.join(store, "cache"), { recursive: true })).filter((f) => /[0-9a-f]{64}\/[^/]+\.(json|jsonl)$/.test(f) && !f.endsWith("manifest.json"))
    await fs.appendFile(path.join(store, "cache", entries[0]!), "tampered")
    const quiet = capture()
    expect(await main(["run", fixture("ok.yaml"), "--store", store, "--quiet"], quiet.io)).toBe(0)
    expect(quiet.errText()).toMatch(/! \w+: node \w+: cached entry [0-9a-f]{64} corrupt \(file [^)]+\), recomputing \(moved to /)
    expect(quiet.errText()).not.toContain("cached\n")

    const gc = capture()
    expect(await main(["gc", "--store", store, "--keep-runs", "0"], gc.io)).toBe(0)
    expect(gc.text()).toMatch(/MiB before, .* MiB after\n {2}runs: 0 kept, 2 removed; entries: 0 kept, 2 removed/)
    expect(await main(["gc", "--store", store, "--keep-runs", "-1"], capture().io)).toBe(2)
  })
})
