import type { Ports } from "@embedflow/core"
import { encoderConfig, makeEncoder } from "@embedflow/models"
import { loadOnnxModel } from "@embedflow/tensor"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, inject, it } from "vitest"
import { fineTunePromptEol, promptEolTemplate } from "../src/index.js"

const root = mkdtempSync(join(tmpdir(), "prompt-eol-ft-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const triples: Array<Ports.Triple> = [
  ["A man is playing a guitar.", "A person plays music.", "Nobody is playing anything."],
  ["Two dogs run through the snow.", "Animals are outside.", "The dogs are asleep indoors."],
  ["A woman slices an onion.", "Someone is cooking.", "A woman is swimming."],
  ["Kids play football in the park.", "Children are outdoors.", "The kids are in class."],
  ["A train arrives at the station.", "A vehicle is moving.", "The train is broken down far away."],
  ["A bird flies over the lake.", "An animal is in the air.", "The bird is in a cage."]
].map(([anchor, positive, negative]) => ({ anchor: anchor!, positive: positive!, negative }))

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

describe("prompt-eol fine-tuning (LoRA on tiny-gpt2, contrastive over PromptEOL embeddings of NLI triples)", () => {
  it("lowers the contrastive loss, changes only the attention projections, and the merged folder reproduces the in-process PromptEOL embeddings through the Encoder", async () => {
    const model = join(inject("tinyModels"), "tiny-gpt2")
    const out = join(root, "tuned")
    const { r, viaEncoder, texts } = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const r = yield* fineTunePromptEol(model, out, triples, {
            template: promptEolTemplate, mode: "lora", loraRank: 4, loraAlpha: undefined, loraFeedForward: false, lr: 1e-2, weightDecay: 0, warmupRatio: 0,
            epochs: 15, batchSize: 3, temperature: 0.05, maxLength: 64, chunkSize: 8, seed: 2
          })
          const texts = triples.map((t) => t.anchor)
          const enc = yield* makeEncoder(encoderConfig({ model: out, pooling: "prompt-eol", normalize: true }))
          return { r, viaEncoder: yield* enc.embed(texts), texts }
        })
      )
    )
    expect(r.objectiveAfter).toBeLessThan(0.8 * r.objectiveBefore)
    const inProcess = r.tuner.embed({ texts: texts.map((t) => promptEolTemplate.replace("{text}", t)) }).data
    expect(maxAbsDiff(viaEncoder, inProcess)).toBeLessThan(1e-4)
    const x = loadOnnxModel(model).model.allParams(), y = loadOnnxModel(out).model.allParams()
    const changed = x.filter((p, i) => maxAbsDiff(p.value, y[i]!.value) > 1e-6).map((p) => p.name)
    expect(changed.length).toBeGreaterThan(0)
    expect(changed.every((n) => /q_proj|k_proj|v_proj|out_proj/.test(n))).toBe(true)
  }, 120_000)
})
