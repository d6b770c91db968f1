import { describe, expect, it } from "vitest"
import {
  BertEncoder, type BertConfig, cachedInfoNce, concatRows, cosineMatrix, cosineMatrixBackward, infoNce, padBatch,
  type Parameter, Rng, SentenceEmbedder, sliceRows
} from "../src/index.js"

const config: BertConfig = {
  vocabSize: 20, hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 24, maxPositions: 8, typeVocabSize: 2,
  layerNormEps: 1e-12, hiddenDropout: 0.1, attentionDropout: 0.1
}
const rng = new Rng(5)
const seqs = (n: number) => Array.from({ length: n }, () => [2, ...Array.from({ length: 1 + rng.int(5) }, () => 5 + rng.int(15)), 3])
const queries = padBatch(seqs(6), { length: 8 })
const docs = padBatch(seqs(8), { length: 8 }) // 2 extra documents: further negatives

const model = () => new SentenceEmbedder(BertEncoder.random(config, 9, 0.2), { pooling: "mean" })

/** The plain step: both groups embedded with activations kept, one loss, one backward each. */
const plainStep = (e: SentenceEmbedder, train: boolean, seed: number): number => {
  const r = new Rng(seed)
  const ctx = { keep: true, train, rng: r }
  // One model instance keeps one forward's activations: embed queries, then re-run docs after.
  const state = r.getState()
  const q = e.embed(queries, ctx)
  const d = e.embed(docs, { ...ctx, keep: false })
  const cos = cosineMatrix(q, d)
  const loss = infoNce(cos.scores, { temperature: 0.05 })
  const { dA, dB } = cosineMatrixBackward(cos, loss.grad)
  e.backward(dA)
  // replay the docs' dropout masks: the Rng after the queries' forward
  const replay = Rng.fromState(state)
  e.embed(queries, { train, rng: replay })
  e.embed(docs, { keep: true, train, rng: replay })
  e.backward(dB)
  return loss.loss
}

const expectSameGrads = (a: ReadonlyArray<Parameter>, b: ReadonlyArray<Parameter>) => {
  expect(a.length).toBe(b.length)
  let nonZero = 0
  a.forEach((p, i) => {
    expect(b[i].name).toBe(p.name)
    let d = 0, n = 0
    p.grad.forEach((g, j) => {
      d += (g - b[i].grad[j]) ** 2
      n += g * g
    })
    if (n > 0) nonZero++
    expect(Math.sqrt(d), p.name).toBeLessThanOrEqual(1e-5 * Math.sqrt(n) + 1e-9)
  })
  expect(nonZero).toBeGreaterThan(a.length - 4) // key biases have zero gradient
}

describe("GradCache (cachedInfoNce)", () => {
  it("chunks of 2 give the full-batch loss and parameter gradients (eval mode)", () => {
    const plain = model(), cached = model()
    const l1 = plainStep(plain, false, 1)
    const l2 = cachedInfoNce(cached, queries, docs, { temperature: 0.05, chunkSize: 2 })
    expect(Math.abs(l1 - l2)).toBeLessThan(1e-6)
    expectSameGrads(plain.params(), cached.params())
  })

  it("with dropout, the second pass replays each chunk's masks (one chunk = the plain step exactly)", () => {
    const plain = model(), cached = model()
    const l1 = plainStep(plain, true, 3)
    const l2 = cachedInfoNce(cached, queries, docs, { temperature: 0.05, chunkSize: 8, train: true, rng: new Rng(3) })
    expect(Math.abs(l1 - l2)).toBeLessThan(1e-6)
    expectSameGrads(plain.params(), cached.params())
  })

  it("the cached embeddings are those of a no-keep forward, chunk by chunk", () => {
    const e = model()
    const all = e.embed(docs)
    const parts = [0, 3, 6].map((s) => {
      const end = Math.min(8, s + 3)
      return e.embed({ ...docs, batch: end - s, inputIds: docs.inputIds.subarray(s * 8, end * 8), attentionMask: docs.attentionMask!.subarray(s * 8, end * 8) })
    })
    const joined = concatRows(parts)
    joined.data.forEach((v, i) => expect(Math.abs(v - all.data[i])).toBeLessThan(1e-6))
    expect(sliceRows(all, 0, 3).data.length).toBe(3 * 16)
  })
})
