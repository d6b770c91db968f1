import { pipeline } from "@huggingface/transformers"
import { Linear } from "@embedflow/tensor"
import { Effect } from "effect"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { encoderConfig, exportEncoder, makeEncoder, readModelCard, readSentenceTransformersLayout, renderModelCard } from "../src/index.js"
import { maxAbsDiff, run, tiny } from "./helpers.js"

const texts = ["A man is playing a guitar.", "Two dogs are running through the snow in a park.", "Kids.", "a cat sits on the mat"]
const tmp = () => mkdtempSync(join(tmpdir(), "embedflow-card-"))

/** The Encoder over the exported folder (its graph pools; `normalize: false` leaves the graph's rows as they are). */
const encoderVectors = (dir: string, normalize: boolean) => run(Effect.flatMap(makeEncoder(encoderConfig({ model: dir, normalize })), (e) => e.embed(texts)))

describe("model card and sentence-transformers layout of exported encoders", () => {
  for (const c of [
    { pooling: "mean", normalize: true },
    { pooling: "cls", normalize: false }
  ] as const) {
    it(`${c.pooling}${c.normalize ? ", normalised" : ""}: transformers.js pipeline("feature-extraction") with the card's pooling reproduces the Encoder`, async () => {
      const out = join(tmp(), "exported")
      await Effect.runPromise(
        exportEncoder({
          backbone: tiny("tiny-bert"),
          pooling: c.pooling,
          normalize: c.normalize,
          outDir: out,
          card: {
            datasets: ["sentence-transformers/stsb"],
            evaluation: [{ task: { type: "STS" }, dataset: { type: "mteb/stsbenchmark-sts", name: "STS-B", split: "test" }, metrics: [{ type: "spearman", value: 0.42 }] }]
          }
        })
      )
      for (const f of ["README.md", "modules.json", "1_Pooling/config.json", "config_sentence_transformers.json", "sentence_bert_config.json", "onnx/model.onnx"]) {
        expect(existsSync(join(out, f)), f).toBe(true)
      }
      const layout = readSentenceTransformersLayout(out)!
      expect(layout).toEqual({ pooling: c.pooling, normalize: c.normalize, hiddenDim: 32, maxSeqLength: 128 })
      const modules = JSON.parse(readFileSync(join(out, "modules.json"), "utf8")) as Array<{ type: string }>
      expect(modules.map((m) => m.type.split(".").pop())).toEqual(c.normalize ? ["Transformer", "Pooling", "Normalize"] : ["Transformer", "Pooling"])

      const card = readModelCard(out)!
      expect(card.library_name).toBe("transformers.js")
      expect(card.pipeline_tag).toBe("sentence-similarity")
      expect(card.base_model).toBe(tiny("tiny-bert"))
      expect(card.datasets).toEqual(["sentence-transformers/stsb"])
      expect(card["model-index"]).toEqual([
        {
          name: "exported",
          results: [{ task: { type: "STS" }, dataset: { type: "mteb/stsbenchmark-sts", name: "STS-B", split: "test" }, metrics: [{ type: "spearman", value: 0.42 }] }]
        }
      ])

      // What another tool does with the folder: read the pooling from the layout, run the pipeline.
      const extractor = await pipeline("feature-extraction", out, { local_files_only: true, dtype: "fp32" })
      try {
        const got = await extractor(texts, { pooling: layout.pooling === "last-token" ? "last_token" : layout.pooling, normalize: layout.normalize })
        const ref = await encoderVectors(out, c.normalize)
        expect(got.dims).toEqual([texts.length, 32])
        expect(maxAbsDiff(got.data as Float32Array, ref)).toBeLessThan(1e-5)
        // ... and the card's usage snippet names that same pooling.
        expect(readFileSync(join(out, "README.md"), "utf8")).toContain(`{ pooling: "${c.pooling}", normalize: ${c.normalize} }`)
      } finally {
        await extractor.dispose()
      }
    })
  }

  it("with a trained head, the card says to read sentence_embedding (pooling last_hidden_state would skip the head)", async () => {
    const out = join(tmp(), "headed")
    const head = Linear.make({ inputDim: 32, outputDim: 8 })
    await Effect.runPromise(exportEncoder({ backbone: tiny("tiny-bert"), pooling: "mean", normalize: true, head, outDir: out }))
    const readme = readFileSync(join(out, "README.md"), "utf8")
    expect(readme).toContain("read its `sentence_embedding` output [batch, 8]")
    expect(readme).toMatch(/untrained backbone's\* vectors/)
    expect(readSentenceTransformersLayout(out)).toEqual({ pooling: "mean", normalize: true, hiddenDim: 32, maxSeqLength: 128 })
  })

  it("renders YAML front matter that round-trips, without empty keys", () => {
    const text = renderModelCard({ pipelineTag: "text-ranking", baseModel: "org/base", tags: ["reranker"], body: "Hello." }, "my-model")
    expect(text.startsWith("---\n")).toBe(true)
    expect(text).toContain("# my-model\n\nHello.\n")
    expect(text).not.toContain("model-index")
    expect(text).not.toContain("datasets")
  })
})
