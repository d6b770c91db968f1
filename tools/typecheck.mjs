#!/usr/bin/env node
// `npm run typecheck`: builds every package (tsc -b tsconfig.build.json), then type-checks every
// package's tests through its tsconfig.test.json (noEmit, against the built packages), in one tsc -b.
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync } from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const tsc = path.join(root, "node_modules/typescript/bin/tsc")
const projects = [
  ...["packages", "plugins", "tools", "examples"].flatMap((g) => readdirSync(path.join(root, g)).map((d) => path.join(g, d))),
  "e2e",
  "bench"
].filter((d) => existsSync(path.join(root, d, "tsconfig.test.json")))
const missing = ["packages", "plugins", "tools", "examples"]
  .flatMap((g) => readdirSync(path.join(root, g)).map((d) => path.join(g, d)))
  .concat(["e2e", "bench"])
  .filter((d) => existsSync(path.join(root, d, "test")) && !existsSync(path.join(root, d, "tsconfig.test.json")))
if (missing.length > 0) {
  console.error(`no tsconfig.test.json in ${missing.join(", ")}: every test folder is type-checked (copy one from a sibling package)`)
  process.exit(1)
}
for (const args of [["-b", "tsconfig.build.json"], ["-b", ...projects.map((d) => path.join(d, "tsconfig.test.json"))]]) {
  const r = spawnSync(process.execPath, [tsc, ...args], { cwd: root, stdio: "inherit" })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
