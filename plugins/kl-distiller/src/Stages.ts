import { existsSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { Params, Ports, PositiveInt, PositiveNumber, Stage, StageContext, StageError, withDefault } from "@embedflow/core"
import { Report } from "@embedflow/eval"
import { BACKBONE_FILE, EmbeddingCache, HeadFolder, ModelHub, PromptTemplate } from "@embedflow/models"
import { type Head, LowRankResidualAdapter, Rng, trainingTools } from "@embedflow/tensor"
import { Effect, Schema } from "effect"
import { clusterPool, diverseDemonstrations } from "./DiverseDemonstrations.js"
import { evaluateIcl } from "./IclEval.js"

type LabeledExample = Ports.LabeledExample
import { distillBackbone } from "./BackboneDistill.js"
import * as KlDistiller from "./KlDistiller.js"
import { mergeRounds } from "./Rounds.js"
import * as RetrieverFolder from "./RetrieverFolder.js"

const fail = (message: string) => (e: unknown) => new StageError({ message: `${message}: ${e instanceof Error ? e.message : String(e)}`, cause: e })

const Pooling = Schema.Literals(["cls", "mean"])

export const distill = Stage.make({
  name: "kl-distiller/distill",
  // 3: InfoNCE negatives are every candidate in the batch (negatives: all); train: backbone | lora; rounds accumulate (previousRewards, init).
  // 2: the objective runs on tensor's cosineMatrix, klDivergence and infoNce (float32) instead of a float64 copy.
  version: "3",
  description: "LLM-R retriever: KL(reward || student) over each query's candidates + alpha InfoNCE, training a head over a frozen encoder or the encoder itself (backbone / LoRA); rewards of earlier rounds accumulate",
  params: Schema.Struct({
    encoder: Params.folderPath("encoder folder (relative to the graph file), used frozen"),
    pooling: withDefault(Pooling, "mean"),
    maxLength: withDefault(PositiveInt, 128),
    rank: Params.describe(withDefault(Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0))), 0), "rank of the residual adapter; 0 = the encoder's full dimension"),
    epochs: withDefault(PositiveInt, 20),
    batchSize: withDefault(PositiveInt, 32),
    lr: withDefault(PositiveNumber, 1e-3),
    weightDecay: withDefault(Schema.Number, 0),
    tauTeacher: withDefault(PositiveNumber, 1),
    tauStudent: withDefault(PositiveNumber, 0.1),
    tauContrastive: withDefault(PositiveNumber, 0.05),
    alpha: withDefault(Schema.Number.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0))), 0.2),
    preset: Params.describe(withDefault(Schema.Literals(["none", "llm-r"]), "none"), "llm-r: LLM-R's values, replacing tauStudent and tauContrastive with 0.01 and alpha with 0.2 (tauTeacher stays as given)"),
    negatives: Params.describe(withDefault(Schema.Literals(["all", "positives"]), "all"), "InfoNCE negatives: every candidate in the batch (LLM-R) or only the other queries' positives"),
    embedBatchSize: withDefault(PositiveInt, 64),
    train: Params.describe(withDefault(Schema.Literals(["head", "backbone", "lora"]), "head"), "head: a residual adapter over the frozen encoder; backbone: every layer of the bi-encoder; lora: rank-loraRank adapters on its attention projections, merged at export"),
    backboneLr: Schema.optionalKey(Params.describe(PositiveNumber, "backbone/lora: peak learning rate (default 3e-5 backbone, 5e-4 lora)")),
    warmupRatio: withDefault(Schema.Number.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1 }))), 0.1),
    loraRank: Params.describe(withDefault(PositiveInt, 8), "lora: adapter rank"),
    chunkSize: Params.describe(withDefault(PositiveInt, 32), "backbone/lora: sequences per GradCache chunk")
  }),
  inputs: { rewards: Ports.ScoredCandidates, heldOut: Ports.ScoredCandidates, previousRewards: Ports.ScoredCandidates, init: Ports.Model },
  optionalInputs: ["heldOut", "previousRewards", "init"],
  outputs: { model: Ports.Model, report: Ports.Report, rewardsSoFar: Ports.ScoredCandidates },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      // Rounds accumulate: this round's rewards joined with every earlier round's (LLM-R).
      const rewards = inputs.previousRewards ? mergeRounds(inputs.previousRewards, inputs.rewards) : inputs.rewards
      const objectiveOptions = {
        tauTeacher: params.tauTeacher,
        tauStudent: params.preset === "llm-r" ? 0.01 : params.tauStudent,
        tauContrastive: params.preset === "llm-r" ? 0.01 : params.tauContrastive,
        alpha: params.preset === "llm-r" ? 0.2 : params.alpha,
        negatives: params.negatives
      }
      const heldOut = inputs.heldOut ?? []
      if (params.train !== "head") {
        // Continue from the previous round's tuned retriever when given, else from the encoder.
        const initDir = inputs.init?.path
        if (initDir !== undefined && !existsSync(path.join(initDir, BACKBONE_FILE))) {
          return yield* new StageError({ message: `init: ${initDir} is not a tuned retriever (train: backbone | lora writes ${BACKBONE_FILE}); connect the previous round's distill.model of the same train mode` })
        }
        const dir = path.join(ctx.scratchDir, "model")
        const r = yield* distillBackbone(initDir ?? ctx.resolvePath(params.encoder), dir, rewards, heldOut, {
          ...objectiveOptions,
          mode: params.train, pooling: params.pooling, epochs: params.epochs, batchSize: params.batchSize,
          lr: params.backboneLr ?? (params.train === "lora" ? 5e-4 : 3e-5), weightDecay: params.weightDecay, warmupRatio: params.warmupRatio,
          loraRank: params.loraRank, maxLength: params.maxLength, chunkSize: params.chunkSize, seed: ctx.seed
        }, (h) =>
          Effect.gen(function* () {
            yield* ctx.metric("loss", h.loss, h.epoch)
            yield* ctx.metric("kl", h.kl, h.epoch)
            yield* ctx.metric("infoNce", h.infoNce, h.epoch)
          })
        ).pipe(Effect.mapError(fail(`train: ${params.train}`)))
        yield* ctx.log(`Kendall tau with the teacher on ${r.kendallTau.on}: base encoder ${r.kendallTau.base.toFixed(3)}, distilled ${r.kendallTau.distilled.toFixed(3)}`)
        return {
          model: { path: dir },
          report: { queries: rewards.length, rounds: inputs.previousRewards ? "accumulated" : "one", continuedFrom: initDir ?? null, train: params.train, trainableParameters: r.trainableParameters, history: r.history, kendallTau: r.kendallTau },
          rewardsSoFar: rewards
        }
      }
      const backbone: HeadFolder.Backbone = { model: ctx.resolvePath(params.encoder), pooling: params.pooling, normalize: true, maxLength: params.maxLength }
      const encoder = yield* (yield* ModelHub).encoder(HeadFolder.encoderConfig(backbone))
      const previous = inputs.init ? yield* Effect.tryPromise({ try: () => RetrieverFolder.read(inputs.init!.path), catch: fail("init: cannot load the previous retriever") }) : undefined
      const cache = yield* EmbeddingCache.build(encoder, [...KlDistiller.textsOf(rewards), ...KlDistiller.textsOf(heldOut)], {
        batchSize: params.embedBatchSize,
        onProgress: (done, total) => ctx.progress(done, total, "texts embedded")
      })
      const rank = previous ? previous.config.head.rank : params.rank === 0 ? cache.dim : params.rank
      if (previous && previous.config.backbone.model !== backbone.model) {
        return yield* new StageError({ message: `init: the previous retriever's head sits on ${previous.config.backbone.model}, this stage's encoder is ${backbone.model}` })
      }
      const head = previous ? previous.head : LowRankResidualAdapter.make({ dim: cache.dim, rank, seed: ctx.seed })
      const kit = trainingTools(head, ctx.seed + 1, { lr: params.lr, weightDecay: params.weightDecay })
      const history = KlDistiller.distill(head, cache, rewards, { ...params, ...objectiveOptions }, kit)
      for (const h of history) {
        yield* ctx.metric("loss", h.loss, h.epoch)
        yield* ctx.metric("kl", h.kl, h.epoch)
        yield* ctx.metric("infoNce", h.infoNce, h.epoch)
      }
      const last = history[history.length - 1]
      if (last && !Number.isFinite(last.loss)) return yield* new StageError({ message: `distillation diverged (loss ${last.loss}); lower lr (now ${params.lr})` })
      const evalSet = heldOut.length > 0 ? heldOut : rewards
      const agreement = {
        on: heldOut.length > 0 ? "held-out queries" : "training queries",
        base: KlDistiller.rankAgreement(undefined, cache, evalSet),
        distilled: KlDistiller.rankAgreement(head, cache, evalSet)
      }
      yield* ctx.log(`Kendall tau with the teacher on ${agreement.on}: base encoder ${agreement.base.toFixed(3)}, distilled ${agreement.distilled.toFixed(3)}`)
      const dir = path.join(ctx.scratchDir, "model")
      yield* Effect.tryPromise({
        try: () => RetrieverFolder.write(dir, { type: "embedflow/kl-distiller-retriever", backbone, head: { kind: "low-rank-residual", dim: cache.dim, rank } }, head),
        catch: fail("cannot write the retriever")
      })
      return { model: { path: dir }, report: { queries: rewards.length, rounds: inputs.previousRewards ? "accumulated" : "one", continuedFrom: inputs.init?.path ?? null, history, kendallTau: agreement }, rewardsSoFar: rewards }
    })
})

/** Retrieves with a trained retriever folder, or with the base encoder when none is given. */
const retrieveWith = (
  model: { readonly path: string } | undefined,
  params: { readonly encoder?: string | undefined; readonly pooling: "cls" | "mean"; readonly maxLength: number; readonly embedBatchSize: number },
  queries: ReadonlyArray<LabeledExample>,
  pool: ReadonlyArray<LabeledExample>,
  k: number,
  excludeSelf: boolean
) =>
  Effect.gen(function* () {
    const ctx = yield* StageContext
    let backbone: HeadFolder.Backbone
    let head: Head | undefined
    if (model && existsSync(path.join(model.path, BACKBONE_FILE))) {
      // a tuned retriever (train: backbone | lora): the folder is the encoder, no head
      const info = JSON.parse(readFileSync(path.join(model.path, BACKBONE_FILE), "utf8")) as { pooling: "cls" | "mean" }
      backbone = { model: model.path, pooling: info.pooling, normalize: true, maxLength: params.maxLength }
    } else if (model) {
      const loaded = yield* Effect.tryPromise({ try: () => RetrieverFolder.read(model.path), catch: fail("cannot load the retriever") })
      backbone = loaded.config.backbone
      head = loaded.head
    } else {
      if (params.encoder === undefined) {
        return yield* new StageError({ message: "no retriever: connect input 'model' (a kl-distiller/distill output) or set param 'encoder' for the base encoder" })
      }
      backbone = { model: ctx.resolvePath(params.encoder), pooling: params.pooling, normalize: true, maxLength: params.maxLength }
    }
    const encoder = yield* (yield* ModelHub).encoder(HeadFolder.encoderConfig(backbone))
    const demoTexts = pool.map((d) => KlDistiller.demonstrationText({ text: d.text, output: d.label }))
    const queryTexts = queries.map(KlDistiller.queryText)
    const cache = yield* EmbeddingCache.build(encoder, [...queryTexts, ...demoTexts], {
      batchSize: params.embedBatchSize,
      onProgress: (done, total) => ctx.progress(done, total, "texts embedded")
    })
    const q = KlDistiller.encode(head, cache, queryTexts)
    const d = KlDistiller.encode(head, cache, demoTexts)
    const hits = KlDistiller.topK(q, d, head ? head.outputDim : cache.dim, k, excludeSelf ? (qi, di) => queries[qi]!.id === pool[di]!.id : undefined)
    return queries.flatMap((query, qi) =>
      hits[qi]!.map((h, r) => ({ queryId: query.id, docId: pool[h.index]!.id, score: h.score, rank: r + 1, text: pool[h.index]!.text }))
    )
  })

export const retrieve = Stage.make({
  name: "kl-distiller/retrieve",
  // 3: reads tuned retriever folders (train: backbone | lora); 2: unit vectors from tensor's l2Normalize.
  version: "3",
  description: "top-k demonstrations from a pool for each query, with a distilled retriever (or the base encoder); chains LLM-R rounds",
  params: Schema.Struct({
    encoder: Schema.optionalKey(Params.folderPath("base encoder folder, used when no retriever model is connected")),
    pooling: withDefault(Pooling, "mean"),
    maxLength: withDefault(PositiveInt, 128),
    k: withDefault(PositiveInt, 16),
    excludeSelf: Params.describe(withDefault(Schema.Boolean, true), "never return a query as its own candidate (when queries are drawn from the pool)"),
    embedBatchSize: withDefault(PositiveInt, 64)
  }),
  inputs: { queries: Ports.LabeledExamples, pool: Ports.LabeledExamples, model: Ports.Model },
  optionalInputs: ["model"],
  outputs: { candidates: Ports.Candidates },
  run: (params, inputs) =>
    Effect.map(retrieveWith(inputs.model, params, inputs.queries, inputs.pool, params.k, params.excludeSelf), (candidates) => ({ candidates }))
})

/** The demonstrations of each query from retriever output, best first. */
/**
 * Each query's k best-ranked candidates from a retriever (never the query itself). A retriever may
 * return fewer than k (BM25 returns only documents sharing a term with the query): the remaining
 * places go to seeded random pool examples, after the retrieved ones, and are counted in `padded`.
 */
const demosFrom = (
  candidates: ReadonlyArray<{ readonly queryId: string; readonly docId: string; readonly rank: number }>,
  queries: ReadonlyArray<LabeledExample>,
  pool: ReadonlyMap<string, LabeledExample>,
  k: number,
  method: string,
  rng: Rng
): { demos: Array<Array<LabeledExample>>; padded: number } => {
  const byQuery = new Map<string, Array<{ docId: string; rank: number }>>()
  for (const c of candidates) {
    let list = byQuery.get(c.queryId)
    if (!list) byQuery.set(c.queryId, (list = []))
    list.push(c)
  }
  const poolList = [...pool.values()]
  let padded = 0
  const demos = queries.map((q) => {
    const ranked = (byQuery.get(q.id) ?? []).filter((c) => c.docId !== q.id).sort((a, b) => a.rank - b.rank)
    const demos = ranked.slice(0, k).map((c) => {
      const d = pool.get(c.docId)
      if (!d) throw new Error(`${method}: candidate '${c.docId}' of query '${q.id}' is not in the pool; retrieve from the same pool`)
      return d
    })
    if (demos.length < k) {
      const taken = new Set([q.id, ...demos.map((d) => d.id)])
      const rest = poolList.filter((d) => !taken.has(d.id))
      if (rest.length < k - demos.length) throw new Error(`${method}: the pool has too few examples for k = ${k} demonstrations`)
      for (const i of rng.sample(rest.length, k - demos.length)) demos.push(rest[i]!)
      padded += k - ranked.slice(0, k).length
    }
    return demos
  })
  return { demos, padded }
}

export const iclEval = Stage.make({
  name: "kl-distiller/icl-eval",
  // 2: k defaults to 8 (LLM-R's setting); k-means-diverse baseline when poolEmbeddings is connected;
  // a retriever's missing places (fewer than k hits) are padded with seeded random pool examples.
  version: "2",
  description:
    "LLM in-context accuracy with k demonstrations per method (zero-shot, random, k-means-diverse, and each connected retriever): LLM-R's table",
  params: Schema.Struct({
    model: Params.folderPath("causal LM folder (relative to the graph file)"),
    k: Params.describe(withDefault(PositiveInt, 8), "demonstrations per test query (LLM-R uses 8)"),
    template: withDefault(PromptTemplate.Param, {}),
    labels: Schema.optionalKey(Params.describe(Schema.Array(Schema.String), "label verbalizers; default: the distinct labels of pool and test, sorted")),
    normalize: withDefault(Schema.Literals(["sum", "mean"]), "mean"),
    batchSize: withDefault(PositiveInt, 32)
  }),
  inputs: {
    pool: Ports.LabeledExamples,
    test: Ports.LabeledExamples,
    poolEmbeddings: Ports.Embeddings,
    bm25: Ports.Candidates,
    base: Ports.Candidates,
    trained: Ports.Candidates
  },
  // poolEmbeddings (rows with the pool's ids) turns on the k-means-diverse baseline.
  optionalInputs: ["poolEmbeddings", "bm25", "base", "trained"],
  outputs: { report: Ports.Report },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const template = yield* Effect.try({ try: () => PromptTemplate.validate(params.template), catch: fail("bad template") })
      const labels = params.labels ?? [...new Set([...inputs.pool, ...inputs.test].map((e) => e.label))].sort()
      const pool = new Map(inputs.pool.map((e) => [e.id, e]))
      const rng = new Rng(ctx.seed)
      const methods: Array<{ name: string; demos: Array<Array<LabeledExample>>; padded?: number }> = [
        { name: "zero-shot", demos: inputs.test.map(() => []) },
        { name: "random", demos: inputs.test.map((q) => Array.from(rng.sample(inputs.pool.length, Math.min(inputs.pool.length, params.k + 1)), (i) => inputs.pool[i]!).filter((d) => d.id !== q.id).slice(0, params.k)) }
      ]
      if (inputs.poolEmbeddings) {
        const embeddings = inputs.poolEmbeddings
        const selection = yield* Effect.try({ try: () => clusterPool(inputs.pool, embeddings, params.k, ctx.seed), catch: fail("k-means diverse") })
        methods.push({ name: "k-means diverse", demos: inputs.test.map((q) => diverseDemonstrations(selection, inputs.pool, q, params.k)) })
      }
      for (const [name, candidates] of [["BM25", inputs.bm25], ["base encoder", inputs.base], ["LLM-R retriever", inputs.trained]] as const) {
        if (!candidates) continue
        const { demos, padded } = yield* Effect.try({ try: () => demosFrom(candidates, inputs.test, pool, params.k, name, rng), catch: fail("bad retriever output") })
        if (padded > 0) yield* ctx.log(`${name}: ${padded} of ${inputs.test.length * params.k} demonstrations padded with random pool examples (fewer than k retrieved)`)
        methods.push({ name, demos, padded })
      }
      const lm = yield* (yield* ModelHub).causalLM(ctx.resolvePath(params.model))
      const rows: Array<Record<string, string | number>> = []
      const predictions: Record<string, unknown> = {}
      for (const [i, m] of methods.entries()) {
        const result = yield* evaluateIcl(lm, inputs.test, m.demos, {
          template,
          labels,
          normalize: params.normalize,
          batchSize: params.batchSize,
          onProgress: (done, total) => ctx.progress(i * total + done, methods.length * total, "label scores")
        }).pipe(Effect.mapError(fail(`ICL evaluation (${m.name})`)))
        yield* ctx.metric(`accuracy/${m.name}`, result.accuracy)
        rows.push({
          method: m.name,
          k: m.name === "zero-shot" ? 0 : params.k,
          accuracy: result.accuracy,
          correct: result.correct,
          total: result.total,
          ...(m.padded ? { padded: m.padded } : {})
        })
        predictions[m.name] = result.predictions
      }
      const table: Report.ResultTable = {
        title: `ICL accuracy (${inputs.test.length} test queries, ${inputs.pool.length} pool examples, ${labels.length} labels)`,
        columns: ["method", "k", "accuracy", "correct", "total"],
        rows,
        notes: [
          `LLM: ${params.model}; labels chosen by ${params.normalize} log-likelihood of each verbalizer`,
          ...methods.filter((m) => m.padded).map((m) => `${m.name}: ${m.padded} demonstration(s) padded with random pool examples where it retrieved fewer than k`)
        ]
      }
      const markdown = Report.toMarkdown(table, { percent: ["accuracy"] })
      yield* ctx.log(`\n${markdown}`)
      return { report: { table, markdown, labels, predictions } }
    })
})
