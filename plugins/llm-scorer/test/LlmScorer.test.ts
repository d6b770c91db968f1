import { makeCausalLM, PromptTemplate } from "@embedflow/models"
import { Effect } from "effect"
import { join } from "node:path"
import { describe, expect, inject, it } from "vitest"
import { scoreCandidates } from "../src/index.js"

const gpt2 = () => join(inject("tinyModels"), "tiny-gpt2")

const ex = (id: string, text: string, label: string) => ({ id, text, label })
const query = ex("q", "Who wrote the play Hamlet ?", "human")
const candidates = [
  ex("a", "What city is the capital of France ?", "location"),
  ex("b", "Who painted the Mona Lisa ?", "human"),
  ex("c", "How many legs does a spider have ?", "number")
]

/** log p(continuation | prompt) by stepping the KV-cache decoder one token at a time, log-softmax in float64. */
const manualLogLikelihood = (lm: Effect.Success<ReturnType<typeof makeCausalLM>>, prompt: string, continuation: string) =>
  Effect.gen(function* () {
    const decoder = yield* lm.decoder([prompt])
    let total = 0
    let tokens = 0
    for (const token of lm.encode(continuation)) {
      const logits = decoder.logits()
      let max = -Infinity
      for (let i = 0; i < decoder.vocabSize; i++) max = Math.max(max, logits[i]!)
      let sum = 0
      for (let i = 0; i < decoder.vocabSize; i++) sum += Math.exp(logits[i]! - max)
      total += logits[token]! - max - Math.log(sum)
      tokens++
      yield* decoder.step([token])
    }
    return { total, tokens }
  })

describe("scoreCandidates on tiny-gpt2 (onnxruntime)", () => {
  it("scores each candidate by log p(gold | demo, query) (mean per token by default, or summed), equal to the decoder's log-softmax by hand", async () => {
    const template = PromptTemplate.defaultTemplate
    const { scored, summed, manual } = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const lm = yield* makeCausalLM(gpt2())
          // batchSize 2: the three pairs run as a padded batch of two, then one.
          const scored = yield* scoreCandidates(lm, [{ query, candidates }], { template, batchSize: 2 })
          const summed = yield* scoreCandidates(lm, [{ query, candidates }], { template, batchSize: 2, reduction: "sum" })
          const manual = new Map<string, { total: number; tokens: number }>()
          for (const c of candidates) {
            const pair = PromptTemplate.render(template, [{ text: c.text, output: c.label }], query, query.label)
            manual.set(c.id, yield* manualLogLikelihood(lm, pair.prompt, pair.continuation))
          }
          return { scored, summed, manual }
        })
      )
    )
    const [result] = scored
    expect(result!.gold).toBe("human")
    expect(result!.candidates.map((c) => c.id).sort()).toEqual(["a", "b", "c"])
    for (const c of result!.candidates) {
      expect(c.score).toBeLessThan(0)
      const m = manual.get(c.id)!
      expect(m.tokens).toBeGreaterThan(1) // " human" is several tiny-gpt2 tokens, so mean and sum differ
      expect(Math.abs(c.score - m.total / m.tokens)).toBeLessThan(1e-4)
    }
    for (const c of summed[0]!.candidates) expect(Math.abs(c.score - manual.get(c.id)!.total)).toBeLessThan(1e-4)
    // Sorted best first.
    const scores = result!.candidates.map((c) => c.score)
    expect(scores).toEqual([...scores].sort((a, b) => b - a))
  })
})
