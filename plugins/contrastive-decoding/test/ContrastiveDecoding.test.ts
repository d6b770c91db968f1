import { makeCausalLM, type CausalLMShape } from "@embedflow/models"
import { Effect, Exit, Scope } from "effect"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest"
import { decodeContrastive, type DecodeOptions, generatePairs, Instructions } from "../src/index.js"

const premises = [
  "A man is playing a guitar on stage.",
  "Two dogs run through the snow.",
  "A woman is slicing an onion.",
  "Children are playing soccer in a park.",
  "A person rides a bike down the street."
]
const t = Instructions.defaultInstructions

let lm: CausalLMShape
let close: () => Promise<void>
beforeAll(async () => {
  // The LM lives for the whole file: its scope closes in afterAll.
  const scope = Effect.runSync(Scope.make())
  lm = await Effect.runPromise(Scope.provide(scope)(makeCausalLM(join(inject("tinyModels"), "tiny-gpt2"))))
  close = () => Effect.runPromise(Scope.close(scope, Exit.void))
})
afterAll(() => close?.())

const greedy = (w: number, maxNewTokens = 12): DecodeOptions => ({ w, maxNewTokens, temperature: 0, topP: 1, stop: [], batchSize: 8 })

/** Float64 reference: each sequence alone, its own two single-row decoders stepped together. */
const reference = (prompt: string, noisy: string, w: number, steps: number) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const a = yield* lm.decoder([prompt])
        const b = yield* lm.decoder([noisy])
        const ids: Array<number> = []
        for (let s = 0; s < steps; s++) {
          const la = a.logits()
          const lb = b.logits()
          let best = 0
          let bestValue = -Infinity
          for (let j = 0; j < lm.vocabSize; j++) {
            const v = la[j]! - w * lb[j]!
            if (v > bestValue) {
              bestValue = v
              best = j
            }
          }
          if (best === lm.eosTokenId) break
          ids.push(best)
          yield* a.step([best])
          yield* b.step([best])
        }
        return ids
      })
    )
  )

const jobsOf = (instruction: string, noisy: string) =>
  premises.map((p, i) => ({ prompt: Instructions.render(instruction, p), noisyPrompt: Instructions.render(noisy, p), seed: i }))

describe("decodeContrastive on tiny-gpt2", () => {
  it("with w = 0 equals plain decoding token for token", async () => {
    const jobs = jobsOf(t.entailment, t.noisyEntailment)
    const ours = await Effect.runPromise(decodeContrastive(lm, jobs, greedy(0)))
    const plain = await Effect.runPromise(lm.generate(jobs.map((j) => j.prompt), { maxNewTokens: 12, temperature: 0, seed: 0 }))
    expect(ours.map((g) => g.text)).toEqual(plain)
    for (const [i, j] of jobs.entries()) expect(ours[i]!.ids).toEqual(await reference(j.prompt, j.noisyPrompt, 0, 12))
  })

  it("with w > 0 picks argmax(l(instruction) - w l(noisy)) at every step, in lock-step batches", async () => {
    const jobs = jobsOf(t.contradiction, t.noisyContradiction)
    const ours = await Effect.runPromise(decodeContrastive(lm, jobs, { ...greedy(0.8), batchSize: 3 }))
    for (const [i, j] of jobs.entries()) expect(ours[i]!.ids).toEqual(await reference(j.prompt, j.noisyPrompt, 0.8, 12))
  })

  it("changes the chosen token exactly where the two distributions disagree", async () => {
    // Find, on the real model, a first step where the instructed favourite is also the noisy prompt's
    // favourite enough that subtracting w * noisy logits hands the win to another token.
    const jobs = jobsOf(t.entailment, t.noisyEntailment)
    const plain = await Effect.runPromise(decodeContrastive(lm, jobs, greedy(0, 1)))
    const contrast = await Effect.runPromise(decodeContrastive(lm, jobs, greedy(1, 1)))
    const firstLogits = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const d = yield* lm.decoder(jobs.flatMap((j) => [j.prompt, j.noisyPrompt]))
          return d.logits().slice()
        })
      )
    )
    const V = lm.vocabSize
    let flipped = 0
    for (let i = 0; i < jobs.length; i++) {
      const instructed = firstLogits.subarray(2 * i * V, (2 * i + 1) * V)
      const noisy = firstLogits.subarray((2 * i + 1) * V, (2 * i + 2) * V)
      const p = plain[i]!.ids[0]!
      const c = contrast[i]!.ids[0]!
      if (p !== c) {
        flipped++
        // The plain choice wins under the instruction; the contrastive one wins after subtracting the noisy logits.
        expect(instructed[p]!).toBeGreaterThan(instructed[c]!)
        expect(instructed[c]! - noisy[c]!).toBeGreaterThan(instructed[p]! - noisy[p]!)
        expect(noisy[p]! - noisy[c]!).toBeGreaterThan(instructed[p]! - instructed[c]!)
      } else {
        expect(instructed[p]! - noisy[p]!).toBeGreaterThanOrEqual(Math.max(...Array.from(instructed, (x, j) => x - noisy[j]!)) - 1e-5)
      }
    }
    expect(flipped).toBeGreaterThan(0)
  })

  it("stops before a stop string and at the token limit, and reports why", async () => {
    const jobs = jobsOf(t.entailment, t.noisyEntailment)
    const free = await Effect.runPromise(decodeContrastive(lm, jobs, greedy(0.5, 20)))
    // Use a character that the free generation of the first job produces as its stop string.
    const text = free[0]!.text
    const stop = text.slice(Math.floor(text.length / 2), Math.floor(text.length / 2) + 1)
    const cut = await Effect.runPromise(decodeContrastive(lm, jobs, { ...greedy(0.5, 20), stop: [stop] }))
    expect(cut[0]!.finish).toBe("stop")
    expect(cut[0]!.text).toBe(text.slice(0, text.indexOf(stop)))
    expect(free.every((g) => g.finish === "length" ? g.tokens === 20 : g.finish === "eos")).toBe(true)
  })

  it("samples reproducibly from each sequence's seed, independent of batch size", async () => {
    const jobs = jobsOf(t.entailment, t.noisyEntailment)
    const options = { ...greedy(0.3, 10), temperature: 0.9, topP: 0.9 }
    const a = await Effect.runPromise(decodeContrastive(lm, jobs, options))
    const b = await Effect.runPromise(decodeContrastive(lm, jobs, { ...options, batchSize: 2 }))
    const c = await Effect.runPromise(decodeContrastive(lm, jobs.map((j) => ({ ...j, seed: j.seed + 100 })), options))
    expect(b.map((g) => g.ids)).toEqual(a.map((g) => g.ids))
    expect(c.map((g) => g.ids)).not.toEqual(a.map((g) => g.ids))
  })
})

describe("generatePairs", () => {
  it("gives each premise an entailment and a contradiction from their own instructions", async () => {
    const records = premises.map((text, i) => ({ id: `p${i}`, text }))
    const pairs = await Effect.runPromise(generatePairs(lm, records, { ...greedy(0.5, 8), instructions: t, seed: 1, batchSize: 2 }))
    expect(pairs.map((p) => p.premise.id)).toEqual(records.map((r) => r.id))
    const alone = await Effect.runPromise(decodeContrastive(lm, jobsOf(t.contradiction, t.noisyContradiction), greedy(0.5, 8)))
    expect(pairs.map((p) => p.contradiction.ids)).toEqual(alone.map((g) => g.ids))
    expect(pairs.some((p) => p.entailment.text !== p.contradiction.text)).toBe(true)
  })
})
