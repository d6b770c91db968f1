import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { Linear, matrix } from "@embedflow/tensor"
import { Schema } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { HeadFolder } from "../src/index.js"

const Config = Schema.Struct({ type: Schema.Literal("test/head"), backbone: HeadFolder.Backbone, dim: Schema.Int })
const roots: Array<string> = []
afterAll(() => Promise.all(roots.map((r) => fs.rm(r, { recursive: true, force: true }))))

describe("HeadFolder (config.json + head.json over a frozen backbone)", () => {
  it("round-trips the head exactly, leaves no temp files, and rejects a head whose dims disagree with config.json", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "head-folder-"))
    roots.push(dir)
    const head = Linear.make({ inputDim: 3, outputDim: 3, seed: 5 })
    const config = { type: "test/head" as const, backbone: { model: "/m", pooling: "mean" as const, normalize: true, maxLength: 64 }, dim: 3 }
    await HeadFolder.write(dir, config, head)
    expect((await fs.readdir(dir)).sort()).toEqual(["config.json", "head.json"])
    const loaded = await HeadFolder.read(dir, Config, (c) => ({ inputDim: c.dim, outputDim: c.dim }), "test head", "a test")
    expect(loaded.config).toEqual(config)
    const x = matrix(2, 3, Float32Array.from([1, 2, 3, -1, 0.5, 0]))
    expect(Array.from(loaded.head.predict(x).data)).toEqual(Array.from(head.predict(x).data))
    expect(HeadFolder.encoderConfig(config.backbone)).toEqual({ model: "/m", pooling: "mean", normalize: true, maxLength: 64 })
    await expect(HeadFolder.read(dir, Config, () => ({ inputDim: 3, outputDim: 4 }), "test head", "a test")).rejects.toThrow(
      /head\.json: a 3 -> 3 head, expected 3 -> 4 as config\.json says/
    )
    await expect(HeadFolder.read(path.join(dir, "missing"), Config, () => ({ inputDim: 3, outputDim: 3 }), "test head", "a test")).rejects.toThrow(
      /cannot read a test head config.*expected a folder written by a test/
    )
  })
})
