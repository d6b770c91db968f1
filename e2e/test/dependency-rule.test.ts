import { spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { afterAll, describe, expect, it } from "vitest"

// tools/sync-workspace.mjs --check enforces "a plugin never imports another plugin" (tools/test.sh runs it).
const repo = resolve(import.meta.dirname, "../..")
const script = join(repo, "tools/sync-workspace.mjs")
const check = (root: string) => spawnSync(process.execPath, [script, "--check", "--root", root], { encoding: "utf8" })

const roots: Array<string> = []
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })))

const write = (root: string, file: string, content: unknown) => {
  mkdirSync(dirname(join(root, file)), { recursive: true })
  writeFileSync(join(root, file), typeof content === "string" ? content : JSON.stringify(content, null, 2) + "\n")
}

/** A tiny workspace: packages/core, plugins/a and plugins/b, both depending only on core. */
const fixture = () => {
  const root = mkdtempSync(join(tmpdir(), "embedflow-deps-"))
  roots.push(root)
  for (const d of ["tools", "examples"]) mkdirSync(join(root, d))
  write(root, "packages/core/package.json", { name: "@embedflow/core" })
  write(root, "packages/core/src/index.ts", "export const x = 1\n")
  for (const p of ["a", "b"]) {
    write(root, `plugins/${p}/package.json`, { name: `@embedflow/${p}`, dependencies: { "@embedflow/core": "*" } })
    write(root, `plugins/${p}/tsconfig.json`, { references: [{ path: "../../packages/core" }] })
    write(root, `plugins/${p}/src/index.ts`, 'import { x } from "@embedflow/core"\nexport const y = x\n')
  }
  return root
}

describe("tools/sync-workspace.mjs --check: one direction of dependencies", () => {
  it("passes on this repository", () => {
    const result = check(repo)
    expect(result.stdout).toBe("")
    expect(result.status).toBe(0)
  })

  it("passes on a clean fixture", () => {
    expect(check(fixture()).status).toBe(0)
  })

  it("fails on a plugin importing another plugin in src/, naming the file and line", () => {
    const root = fixture()
    write(root, "plugins/a/src/Uses.ts", 'import { x } from "@embedflow/core"\nimport { y } from "@embedflow/b"\nexport const z = x + y\n')
    const result = check(root)
    expect(result.status).toBe(1)
    expect(result.stdout).toContain("plugins/a/src/Uses.ts:2: @embedflow/a depends on the plugin @embedflow/b")
  })

  it("fails on a plugin importing another plugin in a test", () => {
    const root = fixture()
    write(root, "plugins/b/test/T.test.ts", 'import { plugin } from "@embedflow/a"\n')
    const result = check(root)
    expect(result.status).toBe(1)
    expect(result.stdout).toContain("plugins/b/test/T.test.ts:1")
  })

  it("fails on a declared dependency or tsconfig reference on a plugin, even if unused", () => {
    const root = fixture()
    write(root, "plugins/a/package.json", { name: "@embedflow/a", dependencies: { "@embedflow/core": "*" }, devDependencies: { "@embedflow/b": "*" } })
    write(root, "plugins/b/tsconfig.json", { references: [{ path: "../../packages/core" }, { path: "../a" }] })
    const result = check(root)
    expect(result.status).toBe(1)
    expect(result.stdout).toContain("plugins/a/package.json devDependencies: @embedflow/a depends on the plugin @embedflow/b")
    expect(result.stdout).toContain("plugins/b/tsconfig.json references: @embedflow/b depends on the plugin @embedflow/a")
  })
})
