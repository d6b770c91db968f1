#!/usr/bin/env node
// Keeps each workspace package's tsconfig `references` and package.json `dependencies` in step with
// the @embedflow packages its src/ imports, so `tsc -b` builds them in order on a fresh clone.
// It also enforces one direction of dependencies: a plugin (plugins/*) never imports or depends on
// another plugin, in src/ or test/, package.json or tsconfig; shared parts belong in packages/*.
// Usage: node tools/sync-workspace.mjs [--check] [--root DIR]
//   --check: report and exit 1 instead of writing; --root: the repo to check (default: this one)
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import * as path from "node:path"

const rootAt = process.argv.indexOf("--root")
const root = rootAt > 0 ? path.resolve(process.argv[rootAt + 1]) : path.resolve(import.meta.dirname, "..")
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

// One direction: plugins depend on packages, never on each other. Not fixable by writing, so it fails either way.
const plugins = new Set([...byName].filter(([, d]) => d.startsWith("plugins" + path.sep) || d.startsWith("plugins/")).map(([n]) => n))
let violations = 0
for (const dir of dirs.filter((d) => d.startsWith("plugins"))) {
  const self = JSON.parse(readFileSync(path.join(root, dir, "package.json"), "utf8"))
  const report = (where, name) => {
    console.log(`${where}: ${self.name} depends on the plugin ${name}; a plugin never imports another plugin (move the shared part to core, models, tensor, data or eval)`)
    violations++
  }
  for (const field of ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"]) {
    for (const name of Object.keys(self[field] ?? {})) if (name !== self.name && plugins.has(name)) report(`${dir}/package.json ${field}`, name)
  }
  const tsconfigFile = path.join(root, dir, "tsconfig.json")
  if (existsSync(tsconfigFile)) {
    for (const ref of JSON.parse(readFileSync(tsconfigFile, "utf8")).references ?? []) {
      const target = path.normalize(path.join(dir, ref.path))
      const name = [...byName].find(([, d]) => d === target)?.[0]
      if (name && name !== self.name && plugins.has(name)) report(`${dir}/tsconfig.json references`, name)
    }
  }
  for (const sub of ["src", "test"]) {
    if (!existsSync(path.join(root, dir, sub))) continue
    for (const file of sources(path.join(root, dir, sub))) {
      readFileSync(file, "utf8").split("\n").forEach((line, i) => {
        for (const m of line.matchAll(/(?:from|import)\s*\(?\s*"(@embedflow\/[a-z0-9-]+)/g)) {
          if (m[1] !== self.name && plugins.has(m[1])) report(`${path.relative(root, file)}:${i + 1}`, m[1])
        }
      })
    }
  }
}
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
if (violations > 0 || (check && problems > 0)) process.exit(1)
