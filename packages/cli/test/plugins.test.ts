import * as fs from "node:fs/promises"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { type Io, main } from "../src/index.js"

const repo = fileURLToPath(new URL("../../../", import.meta.url))

describe("embedflow plugins", () => {
  it("lists each param with its Params.describe text, defaults and numbers included", async () => {
    const out: Array<string> = []
    const io: Io = { out: (t) => out.push(t), err: () => {}, stderr: { write: () => true, isTTY: false, columns: 80 } as unknown as NodeJS.WriteStream }
    expect(await main(["plugins"], io)).toBe(0)
    const text = out.join("\n")
    expect(text).toContain("includeText?: boolean  — copy each document's text into its candidate record")
    expect(text).toMatch(/digitPrefix\?: string {2}— text before each digit token/)
    expect(text).toMatch(/margin\?: number {2}— gist mode: mask a candidate/)
  })

  it("no stage documents a param with JSDoc (which never reaches `embedflow plugins`)", async () => {
    const offenders: Array<string> = []
    for (const group of ["packages", "plugins", "examples"]) {
      for (const pkg of await fs.readdir(path.join(repo, group))) {
        const file = path.join(repo, group, pkg, "src/Stages.ts")
        const lines = (await fs.readFile(file, "utf8").catch(() => "")).split("\n")
        lines.forEach((line, i) => {
          if (/^\s+\/\*\*.*\*\/\s*$/.test(line) && /^\s+\w+: (withDefault|Schema\.|Params\.|PositiveInt|NonNegative)/.test(lines[i + 1] ?? "")) {
            offenders.push(`${path.relative(repo, file)}:${i + 1}`)
          }
        })
      }
    }
    expect(offenders).toEqual([])
  })
})
