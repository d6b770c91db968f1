import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { describe, expect, it } from "vitest"
import { buildTinyModels, modelFiles, TINY_MODEL_NAMES } from "../src/index.js"
import { tempDir } from "./helpers.js"

const listFiles = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((e) => (statSync(join(dir, e)).isDirectory() ? listFiles(join(dir, e)) : [join(dir, e)]))

describe("buildTinyModels", () => {
  it("is byte-for-byte deterministic, idempotent, and writes the Hugging Face layout", () => {
    const a = tempDir("tiny-a-")
    const b = tempDir("tiny-b-")
    const first = buildTinyModels(a)
    expect(first.map((m) => m.skipped)).toEqual([false, false, false])
    buildTinyModels(b, { force: true })
    const filesA = listFiles(a).map((f) => relative(a, f)).sort()
    expect(filesA).toEqual(listFiles(b).map((f) => relative(b, f)).sort())
    for (const f of filesA) expect(Buffer.compare(readFileSync(join(a, f)), readFileSync(join(b, f))), f).toBe(0)
    for (const name of TINY_MODEL_NAMES) for (const f of modelFiles(name)) expect(existsSync(join(a, name, f)), `${name}/${f}`).toBe(true)

    const second = buildTinyModels(a)
    expect(second.map((m) => m.skipped)).toEqual([true, true, true])
  })

  it("rebuilds when the seed changes, and the weights differ", () => {
    const a = tempDir("tiny-s-")
    buildTinyModels(a)
    const before = readFileSync(join(a, "tiny-gpt2/onnx/model.onnx"))
    const rebuilt = buildTinyModels(a, { seed: 7 })
    expect(rebuilt.every((m) => !m.skipped)).toBe(true)
    expect(Buffer.compare(before, readFileSync(join(a, "tiny-gpt2/onnx/model.onnx")))).not.toBe(0)
  })

  it("names the missing corpus when the data folder is wrong", () => {
    expect(() => buildTinyModels(tempDir("tiny-e-"), { dataDir: "/nonexistent" })).toThrow(
      /corpus file \/nonexistent\/stsbenchmark\/sts-train.csv not found/
    )
  })
})
