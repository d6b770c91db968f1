import { spawnSync } from "node:child_process"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { type Io, main } from "../src/index.js"
import { EXAMPLE_GRAPH, newPlugin } from "../src/commands/newPlugin.js"

// `embedflow new-plugin` as a user runs it: scaffolded inside the repo (so its imports resolve like a
// workspace package's), then built with tsc -b, its README graph validated, its own test run.
const repo = fileURLToPath(new URL("../../../", import.meta.url))
const name = `scaffold-check-${process.pid}`
let dir = ""
afterAll(() => fs.rm(dir, { recursive: true, force: true }))

const quiet = (): Io & { err: (t: string) => void; errors: Array<string> } => {
  const errors: Array<string> = []
  const stderr = { write: (t: string) => (errors.push(t), true), isTTY: false, columns: 80 } as unknown as NodeJS.WriteStream
  return { out: () => {}, err: (t) => errors.push(t), stderr, errors }
}

describe("embedflow new-plugin scaffold", () => {
  it("builds with tsc -b (no TS2742), its README graph validates, and its generated test passes", async () => {
    dir = await newPlugin(name, repo)
    const tsc = spawnSync(process.execPath, [path.join(repo, "node_modules/typescript/bin/tsc"), "-b", dir], { encoding: "utf8" })
    expect(tsc.stdout + tsc.stderr).toBe("")
    expect(tsc.status).toBe(0)
    const declarations = await fs.readFile(path.join(dir, "dist/index.d.ts"), "utf8")
    expect(declarations).toContain("upperCase")

    // The README's graph, exactly as shown, next to the example file it describes.
    const readme = await fs.readFile(path.join(dir, "README.md"), "utf8")
    const graph = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(graph).toBe(await fs.readFile(path.join(dir, EXAMPLE_GRAPH), "utf8"))
    await fs.writeFile(path.join(dir, "readme-graph.yaml"), graph!)
    const io = quiet()
    expect(await main(["validate", path.join(dir, "readme-graph.yaml")], io)).toBe(0)
    expect(io.errors.join("")).toBe("")

    const vitest = spawnSync(process.execPath, [path.join(repo, "node_modules/vitest/vitest.mjs"), "run", "--reporter=default"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined }
    })
    // eslint-disable-next-line no-control-regex
    expect(vitest.stdout.replace(/\u001b\[[0-9;]*m/g, "")).toMatch(/Tests\s+1 passed \(1\)/)
    expect(vitest.status).toBe(0)
  }, 180_000)
})
