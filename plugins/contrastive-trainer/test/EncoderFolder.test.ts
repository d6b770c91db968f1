import { AutoModel, AutoTokenizer } from "@huggingface/transformers"
import { encoderConfig, makeEncoder, makeModelHub } from "@embedflow/models"
import { l2Normalize, matrix } from "@embedflow/tensor"
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import * as ort from "onnxruntime-node"
import { describe, expect, inject, it } from "vitest"
import { HEAD_FILE, makeHead, readHeadConfig, writeEncoderFolder } from "../src/index.js"

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

describe("trained encoder folder", () => {
  it("is one ONNX encoder that reproduces the trainer's in-process embeddings (hub, onnxruntime, transformers.js)", async () => {
    const base = path.join(inject("tinyModels"), "tiny-bert")
    const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "ct-folder-")), "model")
    const texts = ["A man is playing a guitar.", "Two dogs run through the snow.", "Kids."]
    const { inProcess, viaHub, baseVectors } = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          // What the trainer does in process: frozen backbone (raw pooled), head.predict, L2 (Stages.ts evaluate).
          const backbone = yield* makeEncoder(encoderConfig({ model: base, pooling: "mean", normalize: false }))
          const head = makeHead({ kind: "adapter", rank: 4 }, backbone.dim, 1)
          // A non-identity head, so the test sees it applied.
          head.params().forEach((p) => p.value.forEach((_, k) => (p.value[k] = Math.sin(k + p.value.length))))
          yield* writeEncoderFolder(dir, { baseModel: base, pooling: "mean", head })
          const raw = yield* backbone.embed(texts)
          const inProcess = l2Normalize(head.predict(matrix(texts.length, backbone.dim, raw))).y.data
          // As models/embed loads any encoder folder.
          const hub = yield* makeModelHub()
          const loaded = yield* hub.encoder({ model: dir, pooling: "mean", normalize: true })
          return { inProcess, viaHub: yield* loaded.embed(texts), baseVectors: l2Normalize(matrix(texts.length, backbone.dim, raw)).y.data }
        })
      )
    )
    expect(maxAbsDiff(viaHub, inProcess)).toBeLessThan(1e-4)
    expect(maxAbsDiff(baseVectors, inProcess)).toBeGreaterThan(1e-2)

    // Plain onnxruntime and transformers.js get the trained embeddings from the one model file.
    const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true })
    const inputs = tokenizer(texts, { padding: true, truncation: true })
    const session = await ort.InferenceSession.create(path.join(dir, "onnx/model.onnx"))
    const byName = inputs as unknown as Record<string, { data: BigInt64Array; dims: Array<number> }>
    const feeds = Object.fromEntries(session.inputNames.map((n) => [n, new ort.Tensor("int64", byName[n]!.data, byName[n]!.dims)]))
    const viaOrt = (await session.run(feeds)).sentence_embedding!.data as Float32Array
    await session.release()
    expect(maxAbsDiff(viaOrt, inProcess)).toBeLessThan(1e-4)
    const model = await AutoModel.from_pretrained(dir, { local_files_only: true, dtype: "fp32" })
    const viaTransformers = (await model(inputs)).sentence_embedding.data as Float32Array
    await model.dispose()
    expect(maxAbsDiff(viaTransformers, inProcess)).toBeLessThan(1e-4)

    // Provenance: the head's weights round-trip exactly; no separate head graph any more.
    const saved = await readHeadConfig(dir)
    expect(saved?.pooling).toBe("mean")
    expect(saved?.baseModel).toBe(base)
    expect(await fs.readdir(path.join(dir, "onnx"))).toEqual(["model.onnx"])
    expect(JSON.parse(await fs.readFile(path.join(dir, HEAD_FILE), "utf8"))).toEqual({
      format: "embedflow.head-encoder/v1",
      pooling: "mean",
      baseModel: base,
      head: saved!.head.toJSON()
    })
    const config = JSON.parse(await fs.readFile(path.join(dir, "config.json"), "utf8"))
    expect(config.embedflow).toMatchObject({ output: "sentence_embedding", pooling: "mean", normalize: true, head: "low-rank-residual", trainer: "contrastive-trainer" })
    expect(await readHeadConfig(base)).toBeUndefined()
  }, 30_000)
})
