import type { Ports } from "@embedflow/core"
import { makeModelHub } from "@embedflow/models"
import { l2Normalize, loadOnnxModel } from "@embedflow/tensor"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, inject, it } from "vitest"
import { distillBackbone, mergeRounds } from "../src/index.js"

const base = () => join(inject("tinyModels"), "tiny-bert")
const root = mkdtempSync(join(tmpdir(), "kl-backbone-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const topics = ["guitar music", "snow dogs", "onion cooking", "football park", "train station", "laptop typing", "lake bird", "stage dance"]
/** The teacher prefers the candidate on the query's topic (reward 0), then the others (-1 … -5). */
const data: Array<Ports.ScoredQuery> = topics.map((t, i) => ({
  id: `q${i}`,
  text: `a question about ${t}`,
  gold: t,
  candidates: [t, ...topics.filter((u) => u !== t).slice(0, 5)].map((u, j) => ({ id: `d-${u}-${j === 0 ? "pos" : "neg"}`, text: `a demo about ${u}`, output: u, score: -j }))
}))

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

describe("mergeRounds", () => {
  it("joins rounds per query: the union of candidates, the later score wins, best first; new queries are appended", () => {
    const q = (id: string, c: Array<[string, number]>): Ports.ScoredQuery => ({ id, text: id, gold: "g", candidates: c.map(([cid, score]) => ({ id: cid, text: cid, output: "o", score })) })
    const merged = mergeRounds([q("a", [["x", 1], ["y", 0]]), q("b", [["z", 2]])], [q("a", [["y", 3], ["w", -1]]), q("c", [["v", 0]])])
    expect(merged.map((m) => m.id)).toEqual(["a", "b", "c"])
    expect(merged[0]!.candidates.map((c) => [c.id, c.score])).toEqual([["y", 3], ["x", 1], ["w", -1]])
  })
})

describe("kl-distiller train: backbone | lora on tiny-bert", () => {
  for (const mode of ["backbone", "lora"] as const) {
    it(`${mode}: KL + alpha·InfoNCE (every candidate a negative) falls, the encoder's weights move, the export reproduces the in-process vectors`, async () => {
      const out = join(root, mode)
      const { history, tuner, viaHub, texts, kendallTau } = await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            const r = yield* distillBackbone(base(), out, data, [], {
              mode, pooling: "mean", epochs: 15, batchSize: 4, lr: mode === "lora" ? 1e-2 : 2e-3, weightDecay: 0, warmupRatio: 0.1, loraRank: 4,
              maxLength: 64, chunkSize: 16, seed: 5, tauTeacher: 1, tauStudent: 0.05, tauContrastive: 0.05, alpha: 0.2, negatives: "all"
            })
            const texts = data.flatMap((q) => [q.text, ...q.candidates.map((c) => `${c.text} ${c.output}`)])
            const enc = yield* (yield* makeModelHub()).encoder({ model: out, pooling: "mean", normalize: true })
            return { ...r, texts, viaHub: yield* enc.embed(texts) }
          })
        )
      )
      expect(history.at(-1)!.loss).toBeLessThan(0.8 * history[0]!.loss)
      expect(history[0]!.infoNce).toBeGreaterThan(0)
      expect(kendallTau.distilled).toBeGreaterThan(kendallTau.base)
      expect(maxAbsDiff(viaHub, l2Normalize(tuner.embed({ texts })).y.data)).toBeLessThan(1e-4)
      const x = loadOnnxModel(base()).model.allParams(), y = tuner.allParams()
      const changed = (name: string) => {
        const i = x.findIndex((p) => p.name === name)
        return maxAbsDiff(x[i]!.value, y[i]!.value)
      }
      expect(changed("encoder.layer.0.attention.self.value.weight")).toBeGreaterThan(1e-4)
      if (mode === "backbone") expect(changed("encoder.layer.1.intermediate.dense.weight")).toBeGreaterThan(1e-4)
      else expect(changed("encoder.layer.1.intermediate.dense.weight")).toBe(0)
    }, 180_000)
  }

  it("continues from the previous round's tuned retriever (accumulation): round 2 starts where round 1 ended", async () => {
    const first = join(root, "round1"), second = join(root, "round2")
    const opts = { mode: "backbone" as const, pooling: "mean" as const, epochs: 3, batchSize: 4, lr: 2e-3, weightDecay: 0, warmupRatio: 0, loraRank: 4, maxLength: 64, chunkSize: 16, seed: 5, tauTeacher: 1, tauStudent: 0.05, tauContrastive: 0.05, alpha: 0.2 }
    const [r1, r2] = await Effect.runPromise(
      Effect.scoped(Effect.all([distillBackbone(base(), first, data.slice(0, 4), [], opts), distillBackbone(first, second, mergeRounds(data.slice(0, 4), data.slice(4)), [], { ...opts, epochs: 1 })], { concurrency: 1 }))
    )
    // round 2's "base" agreement is round 1's result on the same data, not the untrained encoder's
    expect(r2.kendallTau.base).not.toBeCloseTo(r1.kendallTau.base, 6)
    expect(maxAbsDiff(loadOnnxModel(first).model.allParams()[5]!.value, loadOnnxModel(second).model.allParams()[5]!.value)).toBeGreaterThan(0)
  }, 180_000)
})
