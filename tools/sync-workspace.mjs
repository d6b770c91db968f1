#!/usr/bin/env node
// Keeps each workspace package's tsconfig `references` and package.json `dependencies` in step with
// the @embedflow packages its src/ imports, so `tsc -b` builds them in order on a fresh clone.
// Usage: node tools/sync-workspace.mjs [--check]   (--check: report and exit 1 instead of writing)
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const check = process.argv.includes("--check")
const dirs = [
  ...["packages", "plugins", "tools", "examples"].flatMap((g) => readdirSync(path.join(root, g)).map((d) => path.join(g, d))),
  "bench",
  "e2e"
].filter((d) => existsSync(path.join(root, d, "package.json")))
const byName = new Map(dirs.map((d) => [JSON.parse(readFileSync(path.join(root, d, "package.json"), "utf8")).name, d]))

const sources = (dir) =>
  readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f)
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : []
  })

let problems = 0
for (const dir of dirs) {
  const src = path.join(root, dir, existsSync(path.join(root, dir, "src")) ? "src" : "test")
  const tsconfigFile = path.join(root, dir, "tsconfig.json")
  if (!existsSync(src)) continue
  const hasTsconfig = existsSync(tsconfigFile)
  const imported = new Set()
  for (const file of sources(src)) {
    for (const m of readFileSync(file, "utf8").matchAll(/from "(@embedflow\/[a-z0-9-]+)"/g)) imported.add(m[1])
  }
  const pkgFile = path.join(root, dir, "package.json")
  const pkg = JSON.parse(readFileSync(pkgFile, "utf8"))
  const tsconfig = hasTsconfig ? JSON.parse(readFileSync(tsconfigFile, "utf8")) : {}
  const refs = new Set((tsconfig.references ?? []).map((r) => path.normalize(path.join(dir, r.path))))
  let changed = false
  for (const name of [...imported].sort()) {
    const target = byName.get(name)
    if (!target || target === dir) continue
    if (!pkg.dependencies?.[name] && !pkg.devDependencies?.[name]) {
      console.log(`${dir}: imports ${name} but does not depend on it`)
      ;(pkg.dependencies ??= {})[name] = "*"
      changed = true
    }
    if (hasTsconfig && !refs.has(target)) {
      console.log(`${dir}: imports ${name} but tsconfig does not reference ${target}`)
      ;(tsconfig.references ??= []).push({ path: path.relative(dir, target) })
      refs.add(target)
      changed = true
    }
  }
  if (changed) {
    problems++
    if (!check) {
      writeFileSync(pkgFile, JSON.stringify(pkg, null, 2) + "\n")
      if (hasTsconfig) writeFileSync(tsconfigFile, JSON.stringify(tsconfig, null, 2) + "\n")
    }
  }
}
if (check && problems > 0) process.exit(1)
