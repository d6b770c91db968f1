import { layerModelHub, type ModelError } from "@embedflow/models"
import { gpt2PromptFeeds } from "@embedflow/tiny-models"
import { AutoTokenizer } from "@huggingface/transformers"
import { Effect, Exit } from "effect"
import { join } from "node:path"
import * as ort from "onnxruntime-node"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { buildTemplate, makePromptEolEncoder, type PromptEolEncoderConfig, type PromptEolError, promptEolTemplate, renderPrompt } from "../src/index.js"

const gpt2 = () => join(inject("tinyModels"), "tiny-gpt2")

const sentences = [
  "A man is playing a guitar.",
  "Kids play outside in the snow with their two dogs while their parents watch from the porch.",
  "Dogs run.",
  "A woman is slicing an onion on a wooden board in the kitchen."
]
const demonstrations = [
  { sentence: "A jockey riding a horse.", word: "Equestrian" },
  { sentence: "The chef cooks pasta.", word: "Cooking" }
]

let session: ort.InferenceSession
let tokenizer: Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>
beforeAll(async () => {
  session = await ort.InferenceSession.create(join(gpt2(), "onnx/model.onnx"))
  tokenizer = await AutoTokenizer.from_pretrained(gpt2(), { local_files_only: true })
})
afterAll(async () => {
  await session.release()
})

/** The reference: one unbatched, unpadded run per prompt; the last token's last_hidden_state. */
const reference = async (prompt: string): Promise<Float32Array> => {
  const ids = tokenizer.encode(prompt)
  const r = await session.run(gpt2PromptFeeds(ids, { nLayer: 2, nHead: 2, nEmbd: 32 }, (type, data, dims) => new ort.Tensor(type, data, [...dims])))
  const h = r.last_hidden_state
  expect(h.dims).toEqual([1, ids.length, 32])
  return (h.data as Float32Array).slice((ids.length - 1) * 32, ids.length * 32)
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

const embedWith = (config: PromptEolEncoderConfig, texts: ReadonlyArray<string>) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const enc = yield* makePromptEolEncoder(config)
      return { template: enc.template, dim: enc.dim, rows: yield* enc.embed(texts) }
    }).pipe(Effect.provide(layerModelHub()))
  )

describe("buildTemplate", () => {
  const build = (o: Parameters<typeof buildTemplate>[0]) => Effect.runSync(buildTemplate(o))
  const failure = (o: Parameters<typeof buildTemplate>[0]): string => {
    const exit = Effect.runSyncExit(buildTemplate(o))
    if (Exit.isSuccess(exit)) throw new Error("expected a failure")
    return String((exit.cause.reasons[0] as { error?: PromptEolError }).error?.message)
  }

  it("defaults to PromptEOL's template", () => {
    expect(build({})).toBe('This sentence : "{text}" means in one word:"')
    expect(build({})).toBe(promptEolTemplate)
  })

  it("prepends each demonstration as the filled template closed by its word and \".\" with no newline (the official template)", () => {
    // The authors' ICL template (kongds/scaling_sentemb), '_' read as ' ':
    // This_sentence_:_"A_jockey_riding_a_horse."_means_in_one_word:"Equestrian".This_sentence_:_"*sent_0*"_means_in_one_word:"
    expect(build({ demonstrations: [demonstrations[0]!] })).toBe(
      'This sentence : "A jockey riding a horse." means in one word:"Equestrian".This sentence : "{text}" means in one word:"'
    )
    const full = build({ demonstrations })
    expect(full).toBe(
      'This sentence : "A jockey riding a horse." means in one word:"Equestrian".' +
        'This sentence : "The chef cooks pasta." means in one word:"Cooking".' +
        'This sentence : "{text}" means in one word:"'
    )
    expect(renderPrompt(full, "Dogs run.")).toBe(full.replace("{text}", "Dogs run."))
    expect(renderPrompt(full, "costs $& and $1")).toContain('"costs $& and $1" means')
    expect(build({ template: "Q: {text} A:", demonstrations: [{ sentence: "hi", word: "greeting" }], demonstrationEnd: "\n\n" })).toBe(
      "Q: hi A:greeting\n\nQ: {text} A:"
    )
  })

  it("rejects templates without exactly one {text}, and demonstrations that would break the slot", () => {
    expect(failure({ template: "no slot" })).toMatch(/exactly once/)
    expect(failure({ template: "{text} {text}" })).toMatch(/exactly once/)
    expect(failure({ demonstrations: [{ sentence: "a {text}", word: "x" }] })).toMatch(/demonstrations\[0\] contains \{text\}/)
    expect(failure({ demonstrations: [{ sentence: "fine", word: " " }] })).toMatch(/demonstrations\[0\].*empty word/)
  })
})

describe("PromptEOL encoder on tiny-gpt2 (onnxruntime-node)", () => {
  it("a padded batch of different lengths equals unbatched runs of each prompt (max abs diff < 1e-5)", async () => {
    for (const batchSize of [4, 3]) {
      const { rows, dim, template } = await embedWith({ model: gpt2(), normalize: false, batchSize }, sentences)
      expect(dim).toBe(32)
      expect(template).toBe(promptEolTemplate)
      const lengths = new Set(sentences.map((s) => tokenizer.encode(renderPrompt(template, s)).length))
      expect(lengths.size).toBe(sentences.length)
      for (let i = 0; i < sentences.length; i++) {
        const ref = await reference(renderPrompt(template, sentences[i]!))
        expect(maxAbsDiff(rows.subarray(i * dim, (i + 1) * dim), ref)).toBeLessThan(1e-5)
      }
    }
  })

  it("demonstrations are read before the sentence: equals the run over the literal ICL prompt, and differs from zero-shot", async () => {
    const icl = await embedWith({ model: gpt2(), normalize: false, demonstrations }, sentences)
    const plain = await embedWith({ model: gpt2(), normalize: false }, sentences)
    for (let i = 0; i < sentences.length; i++) {
      const prompt =
        'This sentence : "A jockey riding a horse." means in one word:"Equestrian".' +
        'This sentence : "The chef cooks pasta." means in one word:"Cooking".' +
        `This sentence : "${sentences[i]}" means in one word:"`
      const row = icl.rows.subarray(i * 32, (i + 1) * 32)
      expect(maxAbsDiff(row, await reference(prompt))).toBeLessThan(1e-5)
      expect(maxAbsDiff(row, plain.rows.subarray(i * 32, (i + 1) * 32))).toBeGreaterThan(1e-2)
    }
  })

  it("normalize gives the unit-length reference rows", async () => {
    const { rows } = await embedWith({ model: gpt2(), batchSize: 2 }, sentences)
    for (let i = 0; i < sentences.length; i++) {
      const ref = await reference(renderPrompt(promptEolTemplate, sentences[i]!))
      const norm = Math.hypot(...ref)
      expect(maxAbsDiff(rows.subarray(i * 32, (i + 1) * 32), ref.map((v) => v / norm))).toBeLessThan(1e-5)
    }
  })

  it("names a bad model folder and a bad batch size", async () => {
    const fail = async (config: PromptEolEncoderConfig) => {
      const exit = await Effect.runPromiseExit(makePromptEolEncoder(config).pipe(Effect.provide(layerModelHub({ allowRemote: false }))))
      if (Exit.isSuccess(exit)) throw new Error("expected a failure")
      return String((exit.cause.reasons[0] as { error?: ModelError | PromptEolError }).error?.message)
    }
    expect(await fail({ model: join(inject("tinyModels"), "missing-model") })).toMatch(/missing-model/)
    expect(await fail({ model: gpt2(), batchSize: 0 })).toMatch(/batchSize must be a positive integer, got 0/)
  })
})
