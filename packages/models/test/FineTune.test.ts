/**
 * End to end: fine-tune every layer of tiny-bert in TypeScript (@embedflow/tensor's BertEncoder,
 * in-batch InfoNCE, AdamW), export the weights into the same ONNX graph, and load the exported
 * folder through the Encoder: it must reproduce the in-process embeddings.
 */
import { AutoTokenizer } from "@huggingface/transformers"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  AdamW, type BertEncoder, cosineMatrix, cosineMatrixBackward, infoNce, loadOnnxModel, padBatch, Rng, saveOnnxModelFolder,
  SentenceEmbedder, type TokenBatch
} from "@embedflow/tensor"
import { afterAll, describe, expect, it } from "vitest"
import { encoderConfig, makeEncoder } from "../src/index.js"
import { maxAbsDiff, run, tiny } from "./helpers.js"

const out = mkdtempSync(join(tmpdir(), "embedflow-finetune-"))
afterAll(() => rmSync(out, { recursive: true, force: true }))

const sentences = [
  "A man is playing a guitar.", "Two dogs are running through the snow.", "A woman slices an onion.", "A cat sits on the mat.",
  "The children play football in the park.", "A chef is cooking pasta in the kitchen.", "An old man reads a newspaper.",
  "A girl rides a bicycle down the street.", "The stock market fell sharply today.", "Two people are dancing on a stage.",
  "A bird is flying over the lake.", "Someone is typing on a laptop.", "A boy jumps into the swimming pool.",
  "The train arrives at the station.", "A dog catches a frisbee in the air.", "A woman is singing into a microphone."
]
/** A second view of each sentence: the words rotated by one, so the pair shares words but not order. */
const views = sentences.map((s) => {
  const w = s.replace(/\.$/, "").split(" ")
  return `${[...w.slice(1), w[0]].join(" ")}.`
})

describe("fine-tuning tiny-bert in TypeScript", () => {
  it("a few hundred AdamW steps lower the training loss; the exported folder reproduces the embeddings through the Encoder", async () => {
    const dir = tiny("tiny-bert")
    const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true })
    const encode = (texts: ReadonlyArray<string>): TokenBatch => padBatch(texts.map((t) => tokenizer.encode(t)))
    const loaded = loadOnnxModel(dir)
    const encoder = loaded.model as BertEncoder
    const embedder = new SentenceEmbedder(encoder, { pooling: "mean", normalize: true })
    const a = encode(sentences), b = encode(views)
    const lossOf = (): number => {
      const cos = cosineMatrix(embedder.embed(a), embedder.embed(b))
      return infoNce(cos.scores, { temperature: 0.1 }).loss
    }
    const before = lossOf()
    const optimizer = new AdamW(embedder.params(), { lr: 1e-3, weightDecay: 0.01 })
    const rng = new Rng(1)
    const t0 = performance.now()
    for (let step = 0; step < 200; step++) {
      const pick = rng.sample(sentences.length, 8)
      const qa = encode(Array.from(pick, (i) => sentences[i])), qb = encode(Array.from(pick, (i) => views[i]))
      optimizer.zeroGrad()
      const ctx = { keep: true, train: true, rng }
      const ea = embedder.embed(qa, ctx)
      const eb = embedder.embed(qb, { ...ctx, keep: false })
      const cos = cosineMatrix(ea, eb)
      const { grad } = infoNce(cos.scores, { temperature: 0.1 })
      const { dA, dB } = cosineMatrixBackward(cos, grad)
      embedder.backward(dA)
      embedder.embed(qb, ctx) // second side: its activations only now
      embedder.backward(dB)
      optimizer.step()
    }
    const seconds = (performance.now() - t0) / 1000
    const after = lossOf()
    console.log(`fine-tune: loss ${before.toFixed(3)} -> ${after.toFixed(3)} in ${seconds.toFixed(1)} s`)
    expect(seconds).toBeLessThan(60)
    expect(after).toBeLessThan(0.5 * before)

    const exported = join(out, "tiny-bert-tuned")
    saveOnnxModelFolder(loaded, exported)
    const inProcess = embedder.embed(encode(sentences))
    const vectors = await run(
      Effect.gen(function* () {
        const enc = yield* makeEncoder(encoderConfig({ model: exported, pooling: "mean", normalize: true }))
        return yield* enc.embed(sentences)
      })
    )
    expect(maxAbsDiff(vectors, inProcess.data)).toBeLessThan(1e-4)
    // and the original folder gives different vectors: the check sees the training
    const original = await run(
      Effect.gen(function* () {
        const enc = yield* makeEncoder(encoderConfig({ model: dir, pooling: "mean", normalize: true }))
        return yield* enc.embed(sentences)
      })
    )
    expect(maxAbsDiff(original, inProcess.data)).toBeGreaterThan(1e-2)
  })
})
