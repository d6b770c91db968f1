import { encoderConfig, makeEncoder, makeModelHub } from "@embedflow/models"
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import * as ort from "onnxruntime-node"
import { describe, expect, inject, it } from "vitest"
import { HEAD_ONNX, loadHeadEncoder, makeHead, writeEncoderFolder } from "../src/index.js"

describe("trained encoder folder", () => {
  it("round-trips backbone + head, and head.onnx computes the head", async () => {
    const base = path.join(inject("tinyModels"), "tiny-bert")
    const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "ct-folder-")), "model")
    const texts = ["A man is playing a guitar.", "Two dogs run through the snow."]
    const { ours, raw, head } = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const backbone = yield* makeEncoder(encoderConfig({ model: base, pooling: "mean", normalize: false }))
          const head = makeHead({ kind: "adapter", rank: 4 }, backbone.dim, 1)
          // A non-identity head, so the test sees it applied.
          head.params().forEach((p) => p.value.forEach((_, k) => (p.value[k] = Math.sin(k + p.value.length))))
          yield* Effect.promise(() => writeEncoderFolder(dir, { baseModel: base, pooling: "mean", head }))
          const loaded = yield* loadHeadEncoder(yield* makeModelHub(), dir)
          return { ours: yield* loaded.embed(texts), raw: yield* backbone.embed(texts), head }
        })
      )
    )
    const session = await ort.InferenceSession.create(path.join(dir, HEAD_ONNX))
    const out = await session.run({ pooled: new ort.Tensor("float32", raw, [2, raw.length / 2]) })
    const viaOnnx = out.embedding!.data as Float32Array
    const direct = head.predict({ rows: 2, cols: raw.length / 2, data: raw }).data
    for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i]! - viaOnnx[i]!)).toBeLessThan(1e-5)
    // The head changed the embedding (normalised direct output equals ours).
    const n0 = Math.hypot(...direct.subarray(0, raw.length / 2))
    expect(Math.abs(ours[0]! - direct[0]! / n0)).toBeLessThan(1e-5)
    expect(Math.abs(ours[0]! - raw[0]! / Math.hypot(...raw.subarray(0, raw.length / 2)))).toBeGreaterThan(1e-3)
  })
})
