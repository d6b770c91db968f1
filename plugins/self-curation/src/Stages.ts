import { Params, Ports, PositiveInt, Stage, StageContext, StageError, withDefault } from "@embedflow/core"
import { makeOpenAiCausalLM, ModelHub } from "@embedflow/models"
import { Effect, Schema } from "effect"
import { curate as applyThresholds, type CurationReport, ratePairs, reportOf } from "./Curation.js"
import { defaultTemplate, validate } from "./RatingPrompt.js"
import { ratePairsWithServer } from "./ServerRating.js"

/** A shard's report: the ratings of its triples (null: no negative) ride along for the merge. */
interface ShardReport extends CurationReport {
  readonly ratings: { readonly entailment: ReadonlyArray<number>; readonly contradiction: ReadonlyArray<number | null> }
}

const Rating = Schema.Number.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 5 })))

export const curate = Stage.make({
  name: "self-curation/curate",
  // 2: requireNegative defaults to true (MultiCSR filters whole triples).
  // 3: a batch holds prompts of one token length (ratings no longer depend on their batch's padding).
  version: "3",
  description:
    "MultiCSR self-curation: the LLM rates (premise, hypothesis) 0-5 as the expected digit under its next-token distribution (or, from an OpenAI-compatible server, over its top-k logprobs or parsed from its text); keeps the triples whose entailment is rated >= hi and contradiction <= lo",
  params: Schema.Struct({
    model: Params.folderPath("causal LM folder (relative to the graph file); with `server`, only a label"),
    server: Schema.optionalKey(
      Params.describe(
        Schema.Struct({
          baseUrl: Schema.String,
          model: Schema.String,
          chat: withDefault(Schema.Boolean, false),
          scoring: withDefault(Schema.Literals(["logprobs", "text"]), "logprobs"),
          topK: withDefault(PositiveInt, 20)
        }),
        "an OpenAI-compatible server instead of a local model (its raw logits are out of reach)"
      )
    ),
    template: withDefault(Schema.String, defaultTemplate),
    digitPrefix: Params.describe(withDefault(Schema.String, " "), "text before each digit token: \" \" for GPT-2 style BPE (\" 3\" is one token)"),
    hi: withDefault(Rating, 3.5),
    lo: withDefault(Rating, 1.5),
    requireNegative: Params.describe(
      withDefault(Schema.Boolean, true),
      "drop the whole triple when its contradiction fails (or is missing), as MultiCSR filters triples; false keeps it without a hard negative"
    ),
    batchSize: withDefault(PositiveInt, 32)
  }),
  inputs: { triples: Ports.Triples },
  outputs: { triples: Ports.Triples, report: Ports.Report },
  // Each triple is rated on its own (no sampling; batch-independent, see test/Sharded.test.ts). A shard's
  // report carries its ratings so the merge recomputes the report over all triples in order.
  shard: {
    over: "triples",
    items: 256,
    merge: (params, parts) => {
      const ratings = parts.map((p) => (p.report as ShardReport).ratings)
      const triples = parts.flatMap((p) => [...p.triples])
      const entailment = ratings.flatMap((r) => r.entailment)
      const contradiction = ratings.flatMap((r) => r.contradiction.map((c) => c ?? Number.NaN))
      return { triples, report: reportOf(entailment, contradiction, params, triples.length) }
    }
  },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const template = yield* Effect.try({ try: () => validate(params.template), catch: (e) => new StageError({ message: (e as Error).message }) })
      // Both kinds of pair in one list, so batches stay full.
      const pairs: Array<readonly [string, string]> = []
      const negativeAt: Array<number> = []
      for (const t of inputs.triples) pairs.push([t.anchor, t.positive])
      inputs.triples.forEach((t, i) => {
        if (t.negative !== undefined) {
          negativeAt[i] = pairs.length
          pairs.push([t.anchor, t.negative])
        }
      })
      const onProgress = (done: number, total: number) => ctx.progress(done, total, "pairs")
      const server = params.server
      const scores = yield* (
        server
          ? Effect.scoped(
              Effect.flatMap(
                makeOpenAiCausalLM({ baseUrl: server.baseUrl, model: server.model, generateWith: server.chat ? "chat" : "completions" }),
                (lm) => ratePairsWithServer(lm, pairs, { template, scoring: server.scoring, topK: server.topK, seed: ctx.seed, onProgress })
              )
            )
          : Effect.flatMap((yield* ModelHub).causalLM(ctx.resolvePath(params.model)), (lm) =>
              ratePairs(lm, pairs, { template, digitPrefix: params.digitPrefix, batchSize: params.batchSize, onProgress })
            )
      ).pipe(Effect.catchDefect((e) => Effect.fail(new StageError({ message: e instanceof Error ? e.message : String(e), cause: e }))))
      const n = inputs.triples.length
      const contradiction = Float64Array.from({ length: n }, (_, i) => (negativeAt[i] === undefined ? Number.NaN : scores[negativeAt[i]!]!))
      const result = applyThresholds(inputs.triples, scores.subarray(0, n), contradiction, params)
      yield* ctx.metric("kept_fraction", n === 0 ? 0 : result.report.kept / n)
      yield* ctx.log(
        `kept ${result.report.kept}/${n} triples; entailments kept ${result.report.entailments.kept}, contradictions kept ${result.report.contradictions.kept}/${result.report.contradictions.kept + result.report.contradictions.dropped}`
      )
      if (ctx.shard === undefined) return { triples: result.triples, report: result.report }
      const ratings = { entailment: Array.from(scores.subarray(0, n)), contradiction: Array.from(contradiction, (c) => (Number.isNaN(c) ? null : c)) }
      return { triples: result.triples, report: { ...result.report, ratings } satisfies ShardReport }
    })
})
