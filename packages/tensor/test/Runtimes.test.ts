/**
 * Backend selection as an installed app sees it: test/runtimes/backend-check.mjs imports the built
 * package (dist) and runs a matmul under Node, Bun and Deno (binaries in node_modules/.bin), with the
 * environment variables that select the backend. Covers: each runtime loads the native addon and
 * gets the same product; the automatic fallback to the TypeScript kernels with exactly one warning;
 * a forced native backend that cannot load is an error; EMBEDFLOW_BACKEND=ts and EMBEDFLOW_THREADS.
 */
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { beforeAll, describe, expect, it } from "vitest"
import { matmul, matmulABt, matrix, setBackend, tsBackend } from "../src/index.js"

const root = fileURLToPath(new URL("../../..", import.meta.url))
const script = fileURLToPath(new URL("runtimes/backend-check.mjs", import.meta.url))
const bin = (name: string) => path.join(root, "node_modules/.bin", name)

interface CheckOutput {
  readonly runtime: string
  readonly backend: string
  readonly threads: number
  readonly product: ReadonlyArray<number>
  readonly gram: ReadonlyArray<number>
}

const run = (runtime: "node" | "bun" | "deno", env: Record<string, string> = {}) => {
  const command = runtime === "node" ? process.execPath : bin(runtime)
  const args = runtime === "deno" ? ["run", "-A", script] : [script]
  const base: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined }
  for (const key of ["EMBEDFLOW_BACKEND", "EMBEDFLOW_THREADS", "EMBEDFLOW_TENSOR_ADDON"]) delete base[key]
  const r = spawnSync(command, args, { cwd: root, encoding: "utf8", timeout: 120_000, env: { ...base, ...env } })
  const lastLine = r.stdout.trim().split("\n").at(-1) ?? ""
  return { status: r.status, stderr: r.stderr, output: r.status === 0 ? (JSON.parse(lastLine) as CheckOutput) : undefined }
}

// The same product computed in this process on the TypeScript backend.
const fill = (n: number, seed: number) => {
  let s = seed
  return Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5)
}
let expected: { product: Float32Array; gram: Float32Array }
beforeAll(() => {
  if (!existsSync(path.join(root, "packages/tensor/dist/index.js"))) throw new Error("packages/tensor is not built: run `npx tsc -b` in packages/tensor (tools/setup.sh does)")
  setBackend(tsBackend)
  const a = matrix(37, 29, fill(37 * 29 + 13, 1).subarray(13))
  const b = matrix(29, 41, fill(29 * 41, 2))
  expected = { product: matmul(a, b).data, gram: matmulABt(a, a).data }
  setBackend("native")
})

const maxDiff = (x: ReadonlyArray<number>, y: ArrayLike<number>) => {
  expect(x.length).toBe(y.length)
  return Math.max(...x.map((v, i) => Math.abs(v - y[i])))
}

describe("the native backend under each runtime", () => {
  it("Node, Bun and Deno each load the OpenBLAS addon and compute the same products as the TypeScript kernels", () => {
    const outputs = (["node", "bun", "deno"] as const).map((runtime) => {
      const r = run(runtime)
      expect(r.status, `${runtime}: ${r.stderr}`).toBe(0)
      expect(r.stderr).not.toMatch(/native backend unavailable/)
      expect(r.output).toMatchObject({ runtime, backend: "native" })
      expect(maxDiff(r.output!.product, expected.product)).toBeLessThan(1e-5)
      expect(maxDiff(r.output!.gram, expected.gram)).toBeLessThan(1e-5)
      return r.output!
    })
    // One binary, one BLAS: the runtimes agree exactly.
    for (const other of outputs.slice(1)) {
      expect(other.product).toEqual(outputs[0].product)
      expect(other.gram).toEqual(outputs[0].gram)
    }
  })
})

describe("backend selection", () => {
  it("falls back to the TypeScript kernels with exactly one warning when the addon cannot load", () => {
    const r = run("node", { EMBEDFLOW_TENSOR_ADDON: "/nonexistent/embedflow_tensor.node" })
    expect(r.status, r.stderr).toBe(0)
    expect(r.output?.backend).toBe("ts")
    expect(r.stderr.match(/native backend unavailable/g)).toHaveLength(1)
    expect(r.stderr).toContain("/nonexistent/embedflow_tensor.node")
    expect(maxDiff(r.output!.product, expected.product)).toBe(0)
  })

  it("EMBEDFLOW_BACKEND=native fails, naming the addon, when it cannot load", () => {
    const r = run("node", { EMBEDFLOW_BACKEND: "native", EMBEDFLOW_TENSOR_ADDON: "/nonexistent/embedflow_tensor.node" })
    expect(r.status).not.toBe(0)
    expect(r.stderr).toMatch(/cannot load the native tensor addon \/nonexistent\/embedflow_tensor\.node/)
  })

  it("EMBEDFLOW_BACKEND=ts selects the TypeScript kernels without a warning; a bad value is refused", () => {
    const r = run("node", { EMBEDFLOW_BACKEND: "ts" })
    expect(r.output?.backend).toBe("ts")
    expect(r.stderr).not.toMatch(/native backend unavailable/)
    const bad = run("node", { EMBEDFLOW_BACKEND: "cuda" })
    expect(bad.status).not.toBe(0)
    expect(bad.stderr).toMatch(/EMBEDFLOW_BACKEND is "cuda", expected "native", "ts" or unset/)
  })

  it("EMBEDFLOW_THREADS sets the native thread count; a bad value is refused", () => {
    for (const threads of [1, 3]) expect(run("node", { EMBEDFLOW_THREADS: String(threads) }).output).toMatchObject({ backend: "native", threads })
    const bad = run("node", { EMBEDFLOW_THREADS: "two" })
    expect(bad.status).not.toBe(0)
    expect(bad.stderr).toMatch(/EMBEDFLOW_THREADS is "two", expected a positive integer/)
  })
})
