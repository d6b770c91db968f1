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
let modelsDir = ""

interface CheckOutput {
  readonly runtime: string
  readonly bm25: ReadonlyArray<string>
  readonly masked: number
  readonly objective: readonly [number, number]
  readonly vectors: ReadonlyArray<number>
  readonly faiss: ReadonlyArray<string>
}

// Deno runs the npm packages from node_modules; the native addons (onnxruntime-node, faiss-node)
// need --allow-ffi besides read/write/env/sys.
const denoPermissions = ["--allow-read", "--allow-write", "--allow-env", "--allow-sys", "--allow-ffi"]

const runUnder = (runtime: "node" | "bun" | "deno"): CheckOutput => {
  const store = mkdtempSync(path.join(os.tmpdir(), `embedflow-${runtime}-`))
  const command = runtime === "node" ? process.execPath : bin(runtime)
  const args = runtime === "deno" ? ["run", ...denoPermissions, script, modelsDir, store] : [script, modelsDir, store]
  const stdout = execFileSync(command, args, { cwd: root, encoding: "utf8", timeout: 300_000, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined } })
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as CheckOutput
}

beforeAll(() => {
  // The runtime check imports the built packages (dist), as an installed app would.
  if (!existsSync(path.join(root, "plugins/contrastive-trainer/dist/index.js"))) throw new Error("the packages are not built: run `npm run build` (tools/setup.sh does)")
  modelsDir = mkdtempSync(path.join(os.tmpdir(), "embedflow-tiny-"))
  buildTinyModels(modelsDir)
})

describe("one graph through the real packages (bm25, masker, contrastive-trainer, models, faiss-index) under each runtime", () => {
  it("gives the same retrieval, training and embeddings under Node, Bun and Deno", () => {
    const node = runUnder("node")
    expect(node.runtime).toBe("node")
    expect(node.bm25.length).toBe(15)
    expect(node.faiss.length).toBe(15)
    expect(node.masked).toBeGreaterThan(0)
    expect(node.objective[1]).toBeLessThan(node.objective[0])
    expect(node.vectors.length).toBe(3 * 32)
    expect(node.vectors.every(Number.isFinite)).toBe(true)
    for (const runtime of ["bun", "deno"] as const) {
      const other = runUnder(runtime)
      expect(other.runtime).toBe(runtime)
      expect(other.bm25).toEqual(node.bm25)
      expect(other.masked).toBe(node.masked)
      expect(other.objective[0]).toBeCloseTo(node.objective[0], 6)
      expect(other.objective[1]).toBeCloseTo(node.objective[1], 6)
      expect(other.vectors.length).toBe(node.vectors.length)
      expect(Math.max(...other.vectors.map((x, i) => Math.abs(x - node.vectors[i]!)))).toBeLessThan(1e-5)
      expect(other.faiss).toEqual(node.faiss)
    }
  }, 600_000)
})
