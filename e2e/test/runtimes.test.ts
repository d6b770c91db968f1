import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { buildTinyModels } from "@embedflow/tiny-models"
import { beforeAll, describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../..", import.meta.url))
const script = path.join(root, "e2e/runtimes/graph-check.mjs")
const bin = (name: string) => path.join(root, "node_modules/.bin", name)
let modelDir = ""

interface CheckOutput {
  readonly runtime: string
  readonly dim: number
  readonly count: number
  readonly data: ReadonlyArray<number>
}

const runUnder = (runtime: "node" | "bun" | "deno"): CheckOutput => {
  const store = mkdtempSync(path.join(os.tmpdir(), `embedflow-${runtime}-`))
  const command = runtime === "node" ? process.execPath : bin(runtime)
  const args = runtime === "deno" ? ["run", "-A", script, modelDir, store] : [script, modelDir, store]
  const stdout = execFileSync(command, args, { cwd: root, encoding: "utf8", timeout: 120_000, env: { ...process.env, NO_COLOR: "1" } })
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as CheckOutput
}

beforeAll(() => {
  // The runtime check imports the built packages (dist), as an installed app would.
  if (!existsSync(path.join(root, "packages/core/dist/index.js"))) throw new Error("packages/core is not built: run `npm run build` (tools/setup.sh does)")
  const dir = mkdtempSync(path.join(os.tmpdir(), "embedflow-tiny-"))
  buildTinyModels(dir)
  modelDir = path.join(dir, "tiny-bert")
})

describe("the core test graph (tiny BERT through onnxruntime-node) under each runtime", () => {
  it("gives identical embeddings under Node, Bun and Deno", () => {
    const node = runUnder("node")
    expect(node).toMatchObject({ runtime: "node", dim: 32, count: 3 })
    expect(node.data.every(Number.isFinite)).toBe(true)
    for (const runtime of ["bun", "deno"] as const) {
      const other = runUnder(runtime)
      expect(other.runtime).toBe(runtime)
      expect(other.data.length).toBe(node.data.length)
      const maxDiff = Math.max(...other.data.map((x, i) => Math.abs(x - node.data[i]!)))
      expect(maxDiff).toBeLessThan(1e-5)
    }
  })
})
