import { Schema } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { ArtifactFormat } from "../src/index.js"
import { tempDir } from "./fixtures.js"

describe("ArtifactFormat", () => {
  it("round-trips vectors bit-exactly", async () => {
    const dir = await tempDir()
    const data = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 1e-3)
    await ArtifactFormat.vectors.write(dir, "emb", { dim: 4, count: 3, data, ids: ["a", "b", "c"] })
    const back = await ArtifactFormat.vectors.read(dir, "emb")
    expect(back.data).toEqual(data)
    expect(back.ids).toEqual(["a", "b", "c"])
  })

  it("rejects a truncated vector file", async () => {
    const dir = await tempDir()
    await ArtifactFormat.vectors.write(dir, "emb", { dim: 2, count: 2, data: new Float32Array(4) })
    await fs.truncate(path.join(dir, "emb.f32"), 8)
    await expect(ArtifactFormat.vectors.read(dir, "emb")).rejects.toThrow(/8 bytes on disk, header says 2x2/)
  })

  it("names file and line of a bad record", async () => {
    const dir = await tempDir()
    const fmt = ArtifactFormat.records(Schema.Struct({ id: Schema.String }))
    await fs.writeFile(path.join(dir, "r.jsonl"), '{"id":"a"}\n{"id":3}\n')
    await expect(fmt.read(dir, "r")).rejects.toThrow(/r\.jsonl:2/)
  })
})
