import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"

// tools/node.sh (package.json's `embedflow`, `demo`, `bench`) and tools/node-runtime.sh (set-up, npm test)
// choose the Node everything runs under: the one on PATH when it is >= 22.19, else the pinned Node 24
// from the cache set-up fills from npm. These cases use a fake cache whose "Node 24" is this process's own
// binary, so nothing is downloaded.
const root = path.resolve(import.meta.dirname, "../..")
const runtimeScript = fs.readFileSync(path.join(root, "tools/node-runtime.sh"), "utf8")
const pinned = /^EMBEDFLOW_NODE_VERSION=(\S+)/m.exec(runtimeScript)![1]!
const minimum = /^EMBEDFLOW_NODE_MIN=(\S+)/m.exec(runtimeScript)![1]!
const atLeast = (version: string, min: string) => {
  const [a, b] = [version, min].map((v) => v.split(".").map(Number))
  for (let i = 0; i < 3; i++) if (a![i] !== b![i]) return a![i]! > b![i]!
  return true
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "embedflow-node-runtime-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const cache = path.join(tmp, "cache")
const cachedBin = path.join(cache, "node", pinned, "bin")
fs.mkdirSync(cachedBin, { recursive: true })
fs.symlinkSync(process.execPath, path.join(cachedBin, "node"))

/** A folder with a `node` that reports the given version to the check and otherwise is this Node. */
const fakeNode = (version: string) => {
  const dir = fs.mkdtempSync(path.join(tmp, "bin-"))
  fs.writeFileSync(
    path.join(dir, "node"),
    `#!/bin/sh\nif [ "$1" = -p ] && [ "$2" = process.versions.node ]; then echo ${version}; exit 0; fi\nexec "${process.execPath}" "$@"\n`,
    { mode: 0o755 }
  )
  return dir
}

/** Runs `tools/node.sh -p <expr>` with the given PATH head; returns the first PATH entry the chosen node saw. */
const firstPathEntry = (pathHead: string, env: Record<string, string> = {}) => {
  const r = spawnSync("bash", [path.join(root, "tools/node.sh"), "-p", "process.env.PATH.split(':')[0]"], {
    encoding: "utf8",
    env: { ...process.env, EMBEDFLOW_CACHE: cache, EMBEDFLOW_NODE: "", ...env, PATH: `${pathHead}:/usr/bin:/bin` }
  })
  expect(r.stderr).toBe("")
  expect(r.status).toBe(0)
  return r.stdout.trim()
}

describe("the Node runtime", () => {
  it(`the tests themselves run under Node >= ${minimum} (set-up's Node 24 where the system one is older)`, () => {
    expect(atLeast(process.versions.node, minimum)).toBe(true)
    expect(pinned.startsWith("24.")).toBe(true)
  })

  it("an older node on PATH: tools/node.sh puts the cached pinned Node first", () => {
    expect(firstPathEntry(fakeNode("20.20.2"))).toBe(cachedBin)
    expect(firstPathEntry(fakeNode("22.18.0"))).toBe(cachedBin)
  })

  it("a recent enough node on PATH is used as it is", () => {
    const recent = fakeNode("22.19.0")
    expect(firstPathEntry(recent)).toBe(recent)
  })

  it("EMBEDFLOW_NODE forces a binary, and one that is too old is refused", () => {
    const forced = fakeNode("24.1.0")
    expect(firstPathEntry(fakeNode("20.20.2"), { EMBEDFLOW_NODE: path.join(forced, "node") })).toBe(forced)
    const old = fakeNode("20.20.2")
    const r = spawnSync("bash", [path.join(root, "tools/node.sh"), "-e", "0"], {
      encoding: "utf8",
      env: { ...process.env, EMBEDFLOW_CACHE: cache, EMBEDFLOW_NODE: path.join(old, "node"), PATH: "/usr/bin:/bin" }
    })
    expect(r.status).toBe(1)
    expect(r.stderr).toContain(`embedflow needs Node >= ${minimum}`)
  })
})
