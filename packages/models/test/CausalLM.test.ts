import { Effect, Exit } from "effect"
import { join } from "node:path"
import * as ort from "onnxruntime-node"
import { describe, expect, it } from "vitest"
import { makeCausalLM } from "../src/index.js"
import { logSoftmax, maxAbsDiff, run, tiny } from "./helpers.js"

/** Next-token logits after `ids` from a full, uncached forward pass of one unpadded sequence. */
const fullRecompute = async (session: ort.InferenceSession, ids: ReadonlyArray<number>): Promise<Float32Array> => {
  const t = (v: ReadonlyArray<number>) => new ort.Tensor("int64", BigInt64Array.from(v, BigInt), [1, v.length])
  const empty = new ort.Tensor("float32", new Float32Array(0), [1, 2, 0, 16])
  const feeds: Record<string, ort.Tensor> = { input_ids: t(ids), attention_mask: t(ids.map(() => 1)), position_ids: t(ids.map((_, i) => i)) }
  for (const name of session.inputNames) if (name.startsWith("past_key_values")) feeds[name] = empty
  const logits = (await session.run(feeds)).logits
  const V = logits.dims[2]
  return (logits.data as Float32Array).slice((ids.length - 1) * V, ids.length * V)
}

const argmax = (row: Float32Array): number => row.reduce((best, v, i) => (v > row[best] ? i : best), 0)

describe("CausalLM on tiny-gpt2", () => {
  it("decoder: logits at every step equal full recomputation (KV cache), for two prompts of different lengths in lock-step", async () => {
    const session = await ort.InferenceSession.create(join(tiny("tiny-gpt2"), "onnx/model.onnx"))
    const prompts = ["A man is playing a guitar while two children dance in the park.", "Dogs"]
    const checks = await run(
      Effect.gen(function* () {
        const lm = yield* makeCausalLM(tiny("tiny-gpt2"))
        const d = yield* lm.decoder(prompts)
        expect(d.batch).toBe(2)
        expect(d.vocabSize).toBe(lm.vocabSize)
        const seqs = prompts.map((p) => [...lm.encode(p)])
        expect(seqs[0].length).toBeGreaterThan(seqs[1].length + 5)
        const diffs: Array<number> = []
        for (let step = 0; step < 8; step++) {
          const logits = d.logits()
          const next: Array<number> = []
          for (let b = 0; b < 2; b++) {
            const row = logits.slice(b * d.vocabSize, (b + 1) * d.vocabSize)
            const ref = yield* Effect.promise(() => fullRecompute(session, seqs[b]))
            diffs.push(maxAbsDiff(row, ref))
            // Different token choices per row: sequences diverge, as in contrastive decoding.
            const tok = step % 2 === b ? argmax(row) : (argmax(row) + 7 * (step + 1)) % d.vocabSize
            next.push(tok)
            seqs[b].push(tok)
          }
          yield* d.step(next)
        }
        return diffs
      })
    )
    await session.release()
    expect(checks.length).toBe(16)
    expect(Math.max(...checks)).toBeLessThan(1e-4)
  })

  it("two single-prompt decoders advanced in lock-step match one batched decoder", async () => {
    const diff = await run(
      Effect.gen(function* () {
        const lm = yield* makeCausalLM(tiny("tiny-gpt2"))
        const a = yield* lm.decoder(["Write a sentence that means the same: A cat sits on the mat."])
        const b = yield* lm.decoder(["A cat sits on the mat."])
        const both = yield* lm.decoder(["Write a sentence that means the same: A cat sits on the mat.", "A cat sits on the mat."])
        let m = 0
        for (let step = 0; step < 5; step++) {
          const la = a.logits()
          const lb = b.logits()
          const lab = both.logits()
          m = Math.max(m, maxAbsDiff(la, lab.subarray(0, lm.vocabSize)), maxAbsDiff(lb, lab.subarray(lm.vocabSize)))
          // contrastive choice: argmax of (expert - amateur)
          const contrast = la.map((v, i) => v - lb[i])
          const tok = argmax(contrast)
          yield* a.step([tok])
          yield* b.step([tok])
          yield* both.step([tok, tok])
        }
        return m
      })
    )
    expect(diff).toBeLessThan(1e-4)
  })

  it("logLikelihood equals the sum of the decoder's per-step log-softmax, batched with padding", async () => {
    const pairs = [
      { prompt: "Question: what is he playing? Answer:", continuation: " a guitar" },
      { prompt: "A", continuation: " man is playing a guitar in the park with his dog." },
      { prompt: "", continuation: "Two dogs run." },
      { prompt: "Nothing follows.", continuation: "" }
    ]
    const [batched, oneByOne, expected] = await run(
      Effect.gen(function* () {
        const lm = yield* makeCausalLM(tiny("tiny-gpt2"))
        const batched = yield* lm.logLikelihood(pairs)
        const oneByOne = []
        for (const p of pairs) oneByOne.push((yield* lm.logLikelihood([p]))[0])
        const expected = []
        for (const { prompt, continuation } of pairs) {
          const cont = lm.encode(continuation)
          const total = yield* Effect.scoped(
            Effect.gen(function* () {
              const d = yield* lm.decoder([prompt])
              let sum = 0
              for (const tok of cont) {
                sum += logSoftmax(d.logits())[tok]
                yield* d.step([tok])
              }
              return sum
            })
          )
          expected.push({ total, tokens: cont.length })
        }
        return [batched, oneByOne, expected] as const
      })
    )
    for (let i = 0; i < pairs.length; i++) {
      expect(batched[i].tokens).toBe(expected[i].tokens)
      expect(Math.abs(batched[i].total - expected[i].total)).toBeLessThan(1e-4)
      expect(Math.abs(oneByOne[i].total - batched[i].total)).toBeLessThan(1e-4)
    }
    expect(batched[3]).toEqual({ total: 0, tokens: 0 })
    expect(batched[0].total).toBeLessThan(0)
  })

  it("generate: greedy equals argmax decoding; sampling is reproducible by seed and varies with it", async () => {
    const prompts = ["A man is playing", "Two dogs are running through the snow"]
    const out = await run(
      Effect.gen(function* () {
        const lm = yield* makeCausalLM(tiny("tiny-gpt2"))
        const greedy = yield* lm.generate(prompts, { maxNewTokens: 6, seed: 0 })
        // Greedy by hand with the decoder, one prompt at a time.
        const manual = []
        for (const p of prompts) {
          manual.push(
            yield* Effect.scoped(
              Effect.gen(function* () {
                const d = yield* lm.decoder([p])
                const ids: Array<number> = []
                for (let i = 0; i < 6; i++) {
                  const tok = argmax(d.logits())
                  if (tok === lm.eosTokenId) break
                  ids.push(tok)
                  if (i < 5) yield* d.step([tok])
                }
                return lm.decode(ids)
              })
            )
          )
        }
        const opts = { maxNewTokens: 12, temperature: 1.5, topP: 0.95 }
        const s1 = yield* lm.generate(prompts, { ...opts, seed: 7 })
        const s2 = yield* lm.generate(prompts, { ...opts, seed: 7 })
        const seeds = []
        for (let seed = 1; seed <= 4; seed++) seeds.push((yield* lm.generate(prompts, { ...opts, seed })).join("|"))
        const alone = yield* lm.generate([prompts[0]], { ...opts, seed: 7 })
        return { greedy, manual, s1, s2, seeds, alone }
      })
    )
    expect(out.greedy).toEqual(out.manual)
    expect(out.greedy[0].length).toBeGreaterThan(0)
    expect(out.s1).toEqual(out.s2)
    expect(new Set(out.seeds).size).toBeGreaterThan(1)
    expect(out.s1[0]).not.toEqual(out.greedy[0])
    // Row i samples from stream (seed, i), unaffected by the other rows and their padding.
    expect(out.alone[0]).toEqual(out.s2[0])
  })

  it("generate stops at a stop string and returns only the new text before it", async () => {
    const out = await run(
      Effect.gen(function* () {
        const lm = yield* makeCausalLM(tiny("tiny-gpt2"))
        const free = yield* lm.generate(["A man is playing"], { maxNewTokens: 20, seed: 3 })
        const text = free[0]
        const stop = text.slice(Math.floor(text.length / 2), Math.floor(text.length / 2) + 2)
        const stopped = yield* lm.generate(["A man is playing"], { maxNewTokens: 20, seed: 3, stop: [stop] })
        return { text, stop, stopped: stopped[0] }
      })
    )
    expect(out.text.length).toBeGreaterThan(4)
    expect(out.stopped).toBe(out.text.slice(0, out.text.indexOf(out.stop)))
  })

  it("a decoder fails clearly after its scope closed, and on wrong token counts", async () => {
    const exits = await run(
      Effect.gen(function* () {
        const lm = yield* makeCausalLM(tiny("tiny-gpt2"))
        const d = yield* Effect.scoped(lm.decoder(["hello"]))
        const closed = yield* Effect.exit(d.step([1]))
        const wrong = yield* Effect.scoped(Effect.flatMap(lm.decoder(["a", "b"]), (d2) => Effect.exit(d2.step([1]))))
        return { closed, wrong }
      })
    )
    expect(Exit.isFailure(exits.closed) && String(exits.closed.cause)).toContain("after its scope closed")
    expect(Exit.isFailure(exits.wrong) && String(exits.wrong.cause)).toContain("got 1 tokens for a batch of 2")
  })
})
