import { AutoTokenizer } from "@huggingface/transformers"
import { Effect } from "effect"
import { join } from "node:path"
import * as ort from "onnxruntime-node"
import { describe, expect, it } from "vitest"
import { makeCrossEncoder } from "../src/index.js"
import { maxAbsDiff, run, runLogged, tiny } from "./helpers.js"

const pairs: Array<readonly [string, string]> = [
  ["a man plays music", "a man is playing a guitar"],
  ["a man plays music", "the stock market fell sharply after the announcement"],
  ["children in a park", "kids play outside"],
  ["what is the cat doing?", "a cat sits on the mat and looks at two dogs running in the snow"],
  ["x", "y"]
]

describe("CrossEncoder on tiny-bert-cross", () => {
  it("scores equal the model's logits for each pair run alone, in any batch size", async () => {
    const dir = tiny("tiny-bert-cross")
    const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true })
    const session = await ort.InferenceSession.create(join(dir, "onnx/model.onnx"))
    const expected: Array<number> = []
    for (const [a, b] of pairs) {
      const enc = tokenizer(a, { text_pair: b })
      const t = (x: { data: unknown; dims: Array<number> }) => new ort.Tensor("int64", x.data as BigInt64Array, x.dims)
      const r = await session.run({ input_ids: t(enc.input_ids), attention_mask: t(enc.attention_mask), token_type_ids: t(enc.token_type_ids!) })
      expected.push((r.logits.data as Float32Array)[0])
    }
    await session.release()
    const [big, small, empty] = await run(
      Effect.gen(function* () {
        const a = yield* makeCrossEncoder(dir)
        const b = yield* makeCrossEncoder(dir, { maxTokensPerBatch: 1 })
        return [yield* a.score(pairs), yield* b.score(pairs), yield* a.score([])] as const
      })
    )
    expect(maxAbsDiff(big, expected)).toBeLessThan(1e-5)
    expect(maxAbsDiff(small, expected)).toBeLessThan(1e-5)
    expect(empty.length).toBe(0)
    expect(new Set(Array.from(big, (v) => v.toFixed(5))).size).toBe(pairs.length)
  })

  it("truncates long pairs longest-segment-first, keeping [SEP]s, with one warning", async () => {
    const dir = tiny("tiny-bert-cross")
    const long: Array<readonly [string, string]> = [["a short query", "a man is playing a guitar ".repeat(20)]]
    const { value, warnings } = await runLogged(
      Effect.gen(function* () {
        const ce = yield* makeCrossEncoder(dir, { maxLength: 12 })
        const first = yield* ce.score(long)
        yield* ce.score(long)
        return first
      })
    )
    expect(warnings.length).toBe(1)
    // Hugging Face's longest_first: drop the last token of the longer segment (ties: the second).
    const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true })
    const q = tokenizer.encode("a short query", { add_special_tokens: false })
    const p = tokenizer.encode(long[0][1], { add_special_tokens: false })
    while (q.length + p.length + 3 > 12) (q.length > p.length ? q : p).pop()
    expect(q.length).toBe(5) // the query (6 pieces) was cut too once the passage got as short
    const ids = [2, ...q, 3, ...p, 3]
    const types = ids.map((_, i) => (i < q.length + 2 ? 0 : 1))
    const session = await ort.InferenceSession.create(join(dir, "onnx/model.onnx"))
    const t = (v: Array<number>) => new ort.Tensor("int64", BigInt64Array.from(v, BigInt), [1, v.length])
    const r = await session.run({ input_ids: t(ids), attention_mask: t(ids.map(() => 1)), token_type_ids: t(types) })
    await session.release()
    expect(ids.length).toBe(12)
    expect(Math.abs(value[0] - (r.logits.data as Float32Array)[0])).toBeLessThan(1e-5)
  })
})
