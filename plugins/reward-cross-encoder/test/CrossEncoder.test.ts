import type { Ports } from "@embedflow/core"
import { BackboneTuner, makeModelHub } from "@embedflow/models"
import { loadOnnxModel, type Parameter } from "@embedflow/tensor"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, inject, it } from "vitest"
import { type CrossEncoderOptions, groupListwiseLoss, loadCrossEncoder, trainCrossEncoder } from "../src/index.js"
import { allPairTexts, pairText, trainingGroups } from "../src/RewardModel.js"

const base = () => join(inject("tinyModels"), "tiny-bert")
const root = mkdtempSync(join(tmpdir(), "reward-ce-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const topics = ["guitar music", "snow dogs", "onion cooking", "football park", "train station", "laptop typing", "lake bird", "stage dance"]
/** Per query: the candidate on its topic, worded "the best demo", ranks first (a feature a tiny model learns in a few steps). */
const data: Array<Ports.ScoredQuery> = topics.map((t, i) => ({
  id: `q${i}`,
  text: `a question about ${t}`,
  gold: t.split(" ")[0]!,
  candidates: [t, ...topics.filter((u) => u !== t).slice(0, 5)].map((u, j) => ({ id: `q${i}-${j}`, text: j === 0 ? `the best demo about ${u}` : `a demo about ${u}`, output: u.split(" ")[1]!, score: -j }))
}))

const options = (mode: "backbone" | "lora"): CrossEncoderOptions => ({
  mode, negatives: 5, negativeFrom: 0.2, epochs: 12, batchSize: 4, lr: mode === "lora" ? 1e-2 : 2e-3, weightDecay: 0.01, warmupRatio: 0.1, loraRank: 4, maxLength: 64, chunkSize: 16, seed: 3
})

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

describe("pair text", () => {
  it("is query [SEP] gold [SEP] demonstration: the reward model sees the gold output (LLM-R)", () => {
    expect(pairText("q?", "gold answer", { text: "demo input", output: "demo out" })).toBe("q? [SEP] gold answer [SEP] demo input demo out")
  })
})

/**
 * Central differences of the listwise loss through the scalar head and the transformer, against
 * the analytic backward (float32 layers: eps 1e-2, tolerance relative to the largest gradient).
 */
const gradientCheck = (tuner: BackboneTuner, pick: (params: ReadonlyArray<Parameter>) => ReadonlyArray<Parameter>) => {
  const groups = trainingGroups(data.slice(0, 3), { negatives: 3, negativeFrom: 0.2 }, () => 0.5)
  const batch = tuner.tokenize({ texts: groups.flatMap((g) => g.pairs) })
  const lossAt = () => groupListwiseLoss(groups, tuner.embedder.embed(batch)).loss
  const params = tuner.params()
  for (const p of params) p.grad.fill(0)
  const scores = tuner.embedder.embed(batch, { keep: true })
  tuner.embedder.backward(groupListwiseLoss(groups, scores).grads[0]!)
  let checked = 0
  for (const p of pick(params)) {
    // the 3 entries with the largest analytic gradient, and one random-ish entry
    const order = Array.from(p.grad.keys()).sort((a, b) => Math.abs(p.grad[b]!) - Math.abs(p.grad[a]!))
    const scale = Math.abs(p.grad[order[0]!]!)
    expect(scale).toBeGreaterThan(0)
    for (const k of [order[0]!, order[1]!, order[2]!, order[Math.floor(order.length / 2)]!]) {
      const v = p.value[k]!, eps = 1e-2
      p.value[k] = v + eps
      const up = lossAt()
      p.value[k] = v - eps
      const down = lossAt()
      p.value[k] = v
      const numeric = (up - down) / (2 * eps)
      expect(Math.abs(numeric - p.grad[k]!), `${p.name}[${k}]: numeric ${numeric} vs analytic ${p.grad[k]}`).toBeLessThan(2e-3 + 0.05 * scale)
      checked++
    }
  }
  return checked
}

describe("cross-encoder reward model on tiny-bert", () => {
  it("gradient check: listwise loss through the scalar head and every layer (backbone)", async () => {
    const tuner = await Effect.runPromise(Effect.scoped(loadCrossEncoder(base(), options("backbone"), 10)))
    const names = ["encoder.layer.0.attention.self.query.weight", "encoder.layer.1.output.dense.weight", "embeddings.LayerNorm.weight", "encoder.layer.0.intermediate.dense.bias"]
    const checked = gradientCheck(tuner, (ps) => [...ps.filter((p) => names.includes(p.name)), ps[ps.length - 2]!])
    expect(checked).toBe(20)
  }, 60_000)

  it("gradient check: listwise loss into LoRA adapters (A and B, B made non-zero)", async () => {
    const tuner = await Effect.runPromise(Effect.scoped(loadCrossEncoder(base(), options("lora"), 10)))
    const lora = tuner.params().filter((p) => p.name.includes("lora_"))
    lora.forEach((p, i) => { if (p.name.endsWith("lora_B")) p.value.forEach((_, k) => (p.value[k] = 0.05 * Math.sin(k + i))) })
    const checked = gradientCheck(tuner, () => lora.filter((p) => /layer\.[01]\.attention\.self\.(query|value)/.test(p.name)))
    expect(checked).toBe(32)
  }, 60_000)

  for (const mode of ["backbone", "lora"] as const) {
    it(`${mode}: listwise training lowers the loss, moves the transformer's weights, and the exported graph reproduces the in-process rewards`, async () => {
      const out = join(root, mode)
      const { history, tuner, viaHub, texts } = await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            const r = yield* trainCrossEncoder(base(), out, data, options(mode))
            const texts = allPairTexts(data)
            const hub = yield* makeModelHub()
            // what reward-cross-encoder/score does with a cross-encoder folder
            const enc = yield* hub.encoder({ model: out, pooling: "cls", normalize: false })
            return { ...r, viaHub: yield* enc.embed(texts), texts }
          })
        )
      )
      expect(history.at(-1)!.loss).toBeLessThan(0.7 * history[0]!.loss)
      const inProcess = tuner.embed({ texts }).data
      expect(inProcess.length).toBe(texts.length)
      expect(maxAbsDiff(viaHub, inProcess)).toBeLessThan(1e-4)
      const x = loadOnnxModel(base()).model.allParams()
      const changed = (name: string) => {
        const i = x.findIndex((p) => p.name === name)
        return maxAbsDiff(x[i]!.value, tuner.allParams()[i]!.value)
      }
      expect(changed("encoder.layer.0.attention.self.query.weight")).toBeGreaterThan(1e-4)
      if (mode === "backbone") expect(changed("encoder.layer.1.output.dense.weight")).toBeGreaterThan(1e-4)
      else expect(changed("encoder.layer.1.output.dense.weight")).toBe(0)
    }, 180_000)
  }
})
