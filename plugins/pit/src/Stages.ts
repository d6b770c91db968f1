// `PortType` is in scope so that declaration emit can name these stages' port types (TS2742).
import { NonNegativeInt, Params, Ports, PortType, PositiveInt, PositiveNumber, Stage, StageContext, StageError, withDefault } from "@embedflow/core"
import { Effect, Schema } from "effect"
import * as path from "node:path"
import { makeBiographies } from "./Biographies.js"
import { trainCausalLm } from "./CausalLmTrainer.js"
import { buildCurriculum, methods, pitLayouts, pretrainingCurriculum } from "./Curriculum.js"
import { evaluateKShot } from "./KShotQa.js"
import { loadModelFolder, saveModelFolder } from "./ModelFolder.js"
import { CurriculumPort, QaPairs } from "./PitPorts.js"
import { vocabularyTexts } from "./Vocabulary.js"
import { WordTokenizer } from "./WordTokenizer.js"

const fail = (node: string, message: string, cause?: unknown) => new StageError({ message: `${node}: ${message}`, cause })

/** Runs synchronous work, turning a thrown error into a StageError that names the stage. */
const attempt = <A>(node: string, what: string, f: () => A) =>
  Effect.try({ try: f, catch: (e) => fail(node, `${what}: ${e instanceof Error ? e.message : String(e)}`, e) })

export const biographies = Stage.make({
  name: "pit/biographies",
  version: "3",
  description:
    "seeded synthetic biographies (invented people; birth month and year, city, university, field, employer; paraphrase templates) with templated questions, split into train doc / train QA / test doc / test QA",
  params: Schema.Struct({
    trainPeople: withDefault(PositiveInt, 60),
    testPeople: withDefault(PositiveInt, 20),
    templates: Params.describe(withDefault(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 4 })), 4), "Paraphrase templates per fact drawn from (1..4)."),
    pretrainPeople: Params.describe(withDefault(NonNegativeInt, 0), "Other people (names disjoint from train and test) whose documents pre-train a base model shared by every method (pretrainDocs)."),
    pretrainQaPeople: Params.describe(withDefault(NonNegativeInt, 0), "How many of the pre-training people also have their questions in the pre-training text (pretrainQa; at most pretrainPeople)."),
    seed: Schema.optionalKey(Params.describe(NonNegativeInt, "Overrides the node's seed (a replication over seeds sets it)."))
  }),
  inputs: {},
  outputs: { trainDocs: Ports.Texts, trainQa: QaPairs, testDocs: Ports.Texts, testQa: QaPairs, pretrainDocs: Ports.Texts, pretrainQa: QaPairs, vocabulary: Ports.Texts },
  run: (params) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const data = yield* attempt(ctx.nodeId, "cannot generate the biographies", () =>
        makeBiographies({ trainPeople: params.trainPeople, testPeople: params.testPeople, templates: params.templates, pretrainPeople: params.pretrainPeople, pretrainQaPeople: params.pretrainQaPeople, seed: params.seed ?? ctx.seed })
      )
      yield* ctx.log(`${data.trainDocs.length} train people (${data.trainQa.length} QA), ${data.testDocs.length} test people (${data.testQa.length} QA), ${params.pretrainPeople} pre-training people (${data.pretrainQa?.length ?? 0} QA)`)
      return { ...data, pretrainDocs: data.pretrainDocs ?? [], pretrainQa: data.pretrainQa ?? [], vocabulary: vocabularyTexts(data).map((text, i) => ({ id: `v${i}`, text })) }
    })
})

export const curriculum = Stage.make({
  name: "pit/curriculum",
  version: "3",
  description:
    "the training stream of one compared method: continued pre-training on test docs, + instruction tuning, mixed, PIT (each train doc's QA in a seeded order, then the doc; then test docs), QA-only PIT, QA then docs",
  params: Schema.Struct({
    method: Schema.Literals(methods),
    documentEpochs: Params.describe(withDefault(PositiveInt, 50), "Epochs over the documents to learn (and the baselines' document phases)."),
    instructionEpochs: Params.describe(withDefault(PositiveInt, 50), "Epochs of the (pre-)instruction-tuning phases."),
    pitLayout: Params.describe(withDefault(Schema.Literals(pitLayouts), "questions-first"), "PIT's unit: a document's questions then the document, or the document then its questions."),
    seed: Schema.optionalKey(Params.describe(NonNegativeInt, "Seed of the order of each document's questions in PIT units (default: the node's seed)."))
  }),
  inputs: { trainDocs: Ports.Texts, trainQa: QaPairs, testDocs: Ports.Texts },
  outputs: { curriculum: CurriculumPort },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const built = yield* attempt(ctx.nodeId, `cannot build the "${params.method}" curriculum`, () =>
        buildCurriculum(params.method, inputs, {
          documentEpochs: params.documentEpochs,
          instructionEpochs: params.instructionEpochs,
          pitLayout: params.pitLayout,
          qaOrderSeed: params.seed ?? ctx.seed
        })
      )
      for (const p of built.phases) yield* ctx.log(`${p.name}: ${p.units.length} units x ${p.epochs} epochs`)
      return { curriculum: built }
    })
})

export const pretrainingCurriculumStage = Stage.make({
  name: "pit/pretraining-curriculum",
  version: "2",
  description:
    "the stream that pre-trains a base model shared by every compared method: other people's documents, with the optional QA pairs mixed in (feed its pit/train-lm model to the methods' pit/train-lm as base)",
  params: Schema.Struct({ epochs: Params.describe(withDefault(PositiveInt, 40), "Epochs over the pre-training documents (and QA).") }),
  inputs: { docs: Ports.Texts, qa: QaPairs },
  optionalInputs: ["qa"],
  outputs: { curriculum: CurriculumPort },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      if (inputs.docs.length === 0) return yield* fail(ctx.nodeId, "inputs.docs is empty: set pit/biographies' pretrainPeople above 0")
      const qa = inputs.qa ?? []
      yield* ctx.log(`${inputs.docs.length} pre-training documents and ${qa.length} QA pairs x ${params.epochs} epochs`)
      return { curriculum: pretrainingCurriculum(inputs.docs, params.epochs, qa) }
    })
})

export const trainLm = Stage.make({
  name: "pit/train-lm",
  version: "4",
  description:
    "trains a small GPT from scratch on a curriculum with the tensor engine (word-level tokenizer, packed sequences, next-token loss on documents and answer tokens only, seeded shuffles, AdamW + cosine per phase)",
  params: Schema.Struct({
    hiddenSize: withDefault(PositiveInt, 128),
    numLayers: withDefault(PositiveInt, 2),
    numHeads: withDefault(PositiveInt, 4),
    intermediateSize: withDefault(PositiveInt, 256),
    maxPositions: Params.describe(withDefault(PositiveInt, 128), "Context length: training sequences are packed up to it; k-shot prompts must fit in it."),
    batchSize: Params.describe(withDefault(PositiveInt, 2), "Packed sequences per step."),
    lr: Params.describe(withDefault(PositiveNumber, 5e-3), "Peak learning rate of every phase (the later ones too unless continuationLr is set)."),
    continuationLr: Schema.optionalKey(Params.describe(PositiveNumber, "Peak learning rate of the later phases (continuing from the trained model); default: lr, one schedule for every phase.")),
    weightDecay: withDefault(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)), 0.01),
    warmupRatio: withDefault(Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })), 0.05),
    seed: Schema.optionalKey(NonNegativeInt)
  }),
  inputs: { curriculum: CurriculumPort, vocabulary: Ports.Texts, base: Ports.Model },
  optionalInputs: ["vocabulary", "base"],
  outputs: { model: Ports.Model, report: Ports.Report },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      if (params.hiddenSize % params.numHeads !== 0) {
        return yield* fail(ctx.nodeId, `params.hiddenSize (${params.hiddenSize}) must be a multiple of params.numHeads (${params.numHeads})`)
      }
      const c = inputs.curriculum
      // Extra vocabulary texts let every compared method share one tokenizer (test questions included).
      const texts = [...c.phases.flatMap((p) => p.units.flatMap((u) => u.segments.map((s) => s.text))), ...(inputs.vocabulary ?? []).map((t) => t.text)]
      const tokenizer = WordTokenizer.fromTexts(texts)
      const base = inputs.base ? yield* attempt(ctx.nodeId, `cannot load the base model folder ${inputs.base.path}`, () => loadModelFolder(inputs.base!.path)) : undefined
      if (base && base.tokenizer.vocabulary.join("\n") !== tokenizer.vocabulary.join("\n")) {
        return yield* fail(ctx.nodeId, `the base model's vocabulary (${base.tokenizer.size} words) differs from this curriculum's + inputs.vocabulary (${tokenizer.size}): give both nodes the same vocabulary input`)
      }
      const started = performance.now()
      const { model, phases } = yield* attempt(ctx.nodeId, "training failed", () =>
        trainCausalLm(c, tokenizer, { ...params, seed: params.seed ?? ctx.seed, ...(base ? { base: base.model } : {}) })
      )
      const trainSeconds = (performance.now() - started) / 1000
      for (const p of phases) yield* ctx.log(`${p.name}: loss ${p.firstEpochLoss.toFixed(3)} -> ${p.lastEpochLoss.toFixed(3)} over ${p.steps} steps`)
      const out = path.join(ctx.scratchDir, "model")
      yield* attempt(ctx.nodeId, "cannot write the model folder", () => saveModelFolder(out, model, tokenizer, { method: c.method }))
      return { model: { path: out }, report: { method: c.method, vocabulary: tokenizer.size, phases, trainSeconds } }
    })
})

export const evaluateQa = Stage.make({
  name: "pit/evaluate-qa",
  version: "2",
  description: "k-shot closed-book QA with greedy decoding until <sep>, '.' or ','; exact match (%) of the answers, overall and per relation",
  params: Schema.Struct({
    k: Params.describe(withDefault(NonNegativeInt, 5), "Demonstrations per question (the PIT paper: 5)."),
    maxNewTokens: withDefault(PositiveInt, 8),
    batchSize: withDefault(PositiveInt, 64),
    seed: Schema.optionalKey(NonNegativeInt)
  }),
  inputs: { model: Ports.Model, questions: QaPairs, demonstrations: QaPairs },
  outputs: { report: Ports.Report },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const { model, tokenizer, meta } = yield* attempt(ctx.nodeId, `cannot load the model folder ${inputs.model.path}`, () => loadModelFolder(inputs.model.path))
      const started = performance.now()
      const report = yield* attempt(ctx.nodeId, "evaluation failed", () =>
        evaluateKShot(model, tokenizer, inputs.questions, inputs.demonstrations, { k: params.k, seed: params.seed ?? ctx.seed, maxNewTokens: params.maxNewTokens, batchSize: params.batchSize })
      )
      yield* ctx.metric("exact_match", report.exactMatch)
      yield* ctx.log(`${meta.method ?? "model"}: ${params.k}-shot exact match ${report.exactMatch.toFixed(1)} % of ${report.questions} questions`)
      return { report: { method: meta.method, k: params.k, ...report, evalSeconds: (performance.now() - started) / 1000 } }
    })
})

const MethodReport = Schema.Struct({ method: Schema.String, exactMatch: Schema.Finite })

export const compare = Stage.make({
  name: "pit/compare",
  version: "1",
  description: "a table of test-QA exact match by method (mean and spread over the reports of each method)",
  params: Schema.Struct({}),
  inputs: { reports: PortType.list(Ports.Report) },
  outputs: { report: Ports.Report },
  run: (_params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const rows = new Map<string, Array<number>>()
      for (const [i, r] of inputs.reports.entries()) {
        const decoded = Schema.decodeUnknownOption(MethodReport)(r)
        if (decoded._tag === "None") return yield* fail(ctx.nodeId, `reports[${i}] is not a pit/evaluate-qa report (expected { method: string, exactMatch: number })`)
        rows.set(decoded.value.method, [...(rows.get(decoded.value.method) ?? []), decoded.value.exactMatch])
      }
      const table = [...rows].map(([method, em]) => {
        const mean = em.reduce((a, b) => a + b, 0) / em.length
        const sd = em.length > 1 ? Math.sqrt(em.reduce((a, x) => a + (x - mean) ** 2, 0) / (em.length - 1)) : 0
        return { method, exactMatch: mean, sd, runs: em.length }
      })
      for (const row of table) yield* ctx.log(`${row.method.padEnd(24)} ${row.exactMatch.toFixed(1)} ± ${row.sd.toFixed(1)} (${row.runs} run${row.runs > 1 ? "s" : ""})`)
      return { report: { table } }
    })
})
