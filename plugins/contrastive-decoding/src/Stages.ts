import { NonNegative, Params, Ports, PositiveInt, Probability, Stage, StageContext, StageError, withDefault } from "@embedflow/core"
import { ModelHub } from "@embedflow/models"
import { Effect, Schema } from "effect"
import * as fs from "node:fs/promises"
import { generatePairs, toTriple } from "./Generator.js"
import { defaultInstructions, validate } from "./Instructions.js"
import { parsePremises } from "./Premises.js"

/**
 * MultiCSR samples each token from the distribution of the contrasted logits l - w * l̂ (seed 000:
 * "最終的なロジットの確率分布からサンプリング"); the seed gives no temperature or top-p, so these are
 * the usual nucleus-sampling values. Every stream is seeded (stage seed, premise id, stream).
 */
export const defaultSampling = { temperature: 1, topP: 0.9 } as const

export const InstructionsParam = Schema.Struct({
  entailment: withDefault(Schema.String, defaultInstructions.entailment),
  contradiction: withDefault(Schema.String, defaultInstructions.contradiction),
  noisyEntailment: withDefault(Schema.String, defaultInstructions.noisyEntailment),
  noisyContradiction: withDefault(Schema.String, defaultInstructions.noisyContradiction)
})

interface GenerateReport {
  readonly premises: number
  readonly triples: number
  readonly emptyEntailments: number
  readonly emptyContradictions: number
  readonly generatedTokens: number
  readonly tokensPerSecond: number
  readonly w: number
}

/** The shards' reports as one: counts summed, throughput over the shards' summed decoding time. */
const mergeReports = (reports: ReadonlyArray<GenerateReport>): GenerateReport => {
  const sum = (f: (r: GenerateReport) => number) => reports.reduce((n, r) => n + f(r), 0)
  const seconds = sum((r) => (r.tokensPerSecond > 0 ? r.generatedTokens / r.tokensPerSecond : 0))
  return {
    premises: sum((r) => r.premises),
    triples: sum((r) => r.triples),
    emptyEntailments: sum((r) => r.emptyEntailments),
    emptyContradictions: sum((r) => r.emptyContradictions),
    generatedTokens: sum((r) => r.generatedTokens),
    tokensPerSecond: sum((r) => r.generatedTokens) / Math.max(seconds, 1e-9),
    w: reports[0]!.w
  }
}

export const generate = Stage.make({
  name: "contrastive-decoding/generate",
  // 2: sampling draws from @embedflow/tensor's Rng (xoshiro128**), so sampled texts differ from 1.
  // 3: samples by default (temperature 1, top-p 0.9), as MultiCSR samples from the contrasted logits.
  version: "3",
  description:
    "MultiCSR generation: per premise an entailment and a contradiction, by instructive decoding (logits = l(instruction) - w * l(noisy instruction)), both prompts decoded in lock-step",
  params: Schema.Struct({
    model: Params.folderPath("causal LM folder (relative to the graph file)"),
    w: Params.describe(withDefault(Schema.Number, 0.3), "weight of the noisy instruction's logits; 0 is plain decoding"),
    instructions: withDefault(InstructionsParam, {}),
    maxNewTokens: withDefault(PositiveInt, 32),
    temperature: Params.describe(
      withDefault(NonNegative, defaultSampling.temperature),
      "softmax temperature of the contrasted logits; 0 = greedy (MultiCSR samples: default 1)"
    ),
    topP: Params.describe(withDefault(Probability, defaultSampling.topP), "nucleus sampling mass (default 0.9; 1 = the whole vocabulary)"),
    stop: withDefault(Schema.Array(Schema.String), ["\n"]),
    batchSize: Params.describe(withDefault(PositiveInt, 16), "premises per decoder batch (4 rows each with w != 0)")
  }),
  inputs: { premises: Ports.Texts },
  outputs: { triples: Ports.Triples, report: Ports.Report },
  // Every stream is seeded by (stage seed, premise id, stream), not by its place in a batch, and shard
  // sizes are multiples of batchSize (`batchOf`): the decoder left-pads a batch's prompts, which moves
  // logits in their last bits, so each shard must cut the batches of a one-shard run to be bit-identical.
  shard: {
    over: "premises",
    items: 128,
    batchOf: (params) => params.batchSize,
    merge: (_params, parts) => ({ triples: parts.flatMap((p) => [...p.triples]), report: mergeReports(parts.map((p) => p.report as GenerateReport)) })
  },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const instructions = yield* Effect.try({
        try: () => validate(params.instructions),
        catch: (e) => new StageError({ message: (e as Error).message })
      })
      const lm = yield* (yield* ModelHub).causalLM(ctx.resolvePath(params.model))
      const started = performance.now()
      const pairs = yield* generatePairs(lm, inputs.premises, {
        ...params,
        instructions,
        seed: ctx.seed,
        onProgress: (done, total) => ctx.progress(done, total, "premises")
      })
      const seconds = (performance.now() - started) / 1000
      const triples: Array<Ports.Triple> = []
      let emptyEntailments = 0
      let emptyContradictions = 0
      let tokens = 0
      for (const pair of pairs) {
        tokens += pair.entailment.tokens + pair.contradiction.tokens
        const triple = toTriple(pair, { w: params.w, seed: ctx.seed })
        // An empty entailment gives nothing to train on; an empty contradiction just has no hard negative.
        if (triple.positive.length === 0) {
          emptyEntailments++
          continue
        }
        if (triple.negative === "") {
          emptyContradictions++
          const { negative: _, ...rest } = triple
          triples.push(rest)
        } else triples.push(triple)
      }
      if (emptyEntailments + emptyContradictions > 0) {
        yield* ctx.log(`${emptyEntailments} premise(s) dropped for an empty entailment; ${emptyContradictions} contradiction(s) empty`)
      }
      yield* ctx.metric("tokens_per_second", tokens / Math.max(seconds, 1e-9))
      return {
        triples,
        report: {
          premises: inputs.premises.length,
          triples: triples.length,
          emptyEntailments,
          emptyContradictions,
          generatedTokens: tokens,
          tokensPerSecond: tokens / Math.max(seconds, 1e-9),
          w: params.w
        }
      }
    })
})

export const loadPremises = Stage.make({
  name: "contrastive-decoding/load-premises",
  version: "1",
  description: "Premises from a file: one sentence a line, or JSON Lines of {id, text} (.jsonl)",
  params: Schema.Struct({
    file: Params.filePath("relative to the graph file"),
    limit: Schema.optionalKey(Params.describe(PositiveInt, "keep only the first `limit` premises"))
  }),
  inputs: {},
  outputs: { premises: Ports.Texts },
  run: (params) =>
    Effect.gen(function* () {
      const file = (yield* StageContext).resolvePath(params.file)
      const content = yield* Effect.tryPromise({
        try: () => fs.readFile(file, "utf8"),
        catch: (e) => new StageError({ message: `cannot read premises file ${file}: ${(e as Error).message}` })
      })
      const premises = yield* Effect.try({ try: () => parsePremises(file, content), catch: (e) => new StageError({ message: (e as Error).message }) })
      if (premises.length === 0) return yield* new StageError({ message: `${file} holds no premises` })
      return { premises: params.limit === undefined ? premises : premises.slice(0, params.limit) }
    })
})
