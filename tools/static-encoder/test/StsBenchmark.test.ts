import { pairwiseCosine, spearman } from "@embedflow/eval"
import { join } from "node:path"
import * as ort from "onnxruntime-node"
import { describe, expect, it } from "vitest"
import { defaultModelDir, ONNX_FILES, PrincipalComponents } from "../src/index.js"
import { encodeWithOnnx, loadStsTest, loadTokenizer } from "./helpers.js"

// Reference Spearman figures on STS-B test (1379 pairs) for GloVe 6B 100-d.
const REFERENCE = { mean: 0.419, meanMinusPc: 0.545, sif: 0.558, sifMinusPc: 0.609 }

/** Spearman of the row-wise cosine, and again after removing the first PC fitted on both sides. */
const figures = (a: Float32Array, b: Float32Array, gold: Float64Array, dim: number) => {
  const count = gold.length
  const plain = spearman(pairwiseCosine({ dim, count, data: a }, { dim, count, data: b }), gold)
  const both = new Float32Array(a.length + b.length)
  both.set(a)
  both.set(b, a.length)
  const removed = PrincipalComponents.fit(both, dim).apply(both)
  const minusPc = spearman(pairwiseCosine({ dim, count, data: removed.subarray(0, a.length) }, { dim, count, data: removed.subarray(a.length) }), gold)
  return { plain, minusPc }
}

describe("GloVe 6B 100-d static encoder on STS-B test (full model, transformers.js tokenizer + onnxruntime-node)", () => {
  it("reproduces the four reference figures within 0.01", async () => {
    const dir = defaultModelDir()
    const sts = loadStsTest()
    expect(sts.gold.length).toBe(1379)
    const tokenizer = await loadTokenizer(dir)
    expect(tokenizer.encode("The, cat")).toEqual([2, 3, tokenizer.convert_tokens_to_ids("cat")])
    const measured: Record<string, number> = {}
    for (const variant of ["mean", "sif"] as const) {
      const session = await ort.InferenceSession.create(join(dir, ONNX_FILES[variant]))
      try {
        const a = await encodeWithOnnx(tokenizer, session, sts.s1)
        const b = await encodeWithOnnx(tokenizer, session, sts.s2)
        const f = figures(a, b, sts.gold, 100)
        measured[variant] = f.plain
        measured[`${variant}MinusPc`] = f.minusPc
      } finally {
        await session.release()
      }
    }
    console.log("STS-B test Spearman:", Object.entries(measured).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(", "))
    for (const [k, ref] of Object.entries(REFERENCE)) expect(Math.abs(measured[k]! - ref), k).toBeLessThan(0.01)
  })
})
