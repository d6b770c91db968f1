/**
 * One run of the small-scale replication: synthetic biographies -> the method's curriculum ->
 * a GPT trained from scratch -> k-shot exact match on the test people's questions. Shared by the
 * bench script and the tests; the graph stages run the same functions one by one.
 */
import { type BiographyOptions, makeBiographies } from "./Biographies.js"
import { type Gpt2Decoder } from "@embedflow/tensor"
import { type Biographies } from "./Biographies.js"
import { buildCurriculum, type CurriculumEpochs, type Method, pretrainingCurriculum } from "./Curriculum.js"
import { trainCausalLm, type TrainOptions } from "./CausalLmTrainer.js"
import { documentRecall, type DocumentRecallReport } from "./DocumentRecall.js"
import { evaluateKShot, type KShotReport } from "./KShotQa.js"
import { vocabularyTexts } from "./Vocabulary.js"
import { WordTokenizer } from "./WordTokenizer.js"

export interface ReplicationSettings {
  readonly data: Omit<BiographyOptions, "seed">
  readonly epochs: CurriculumEpochs
  readonly train: Omit<TrainOptions, "seed" | "onStep">
  readonly k: number
  /**
   * A base model shared by every method: pre-trained (from scratch) for `epochs` on the documents
   * of `people` other synthetic people (`pretrainPeople`), with the questions of the first
   * `qaPeople` of them mixed in (default none), at peak `lr` (default `train.lr`); then each
   * method's curriculum starts from it. Absent: every method starts from random weights.
   */
  readonly pretrain?: { readonly people: number; readonly epochs: number; readonly qaPeople?: number; readonly lr?: number }
}

export const defaultSettings: ReplicationSettings = {
  data: { trainPeople: 60, testPeople: 20, templates: 4 },
  epochs: { documentEpochs: 50, instructionEpochs: 50 },
  train: {
    hiddenSize: 128, numLayers: 2, numHeads: 4, intermediateSize: 256, maxPositions: 128,
    batchSize: 2, lr: 5e-3, weightDecay: 0.01, warmupRatio: 0.05
  },
  k: 5
}

/** Some fields of some parts of the settings (a bench's `--settings` JSON). */
export interface SettingsOverride {
  readonly data?: Partial<ReplicationSettings["data"]>
  readonly epochs?: Partial<ReplicationSettings["epochs"]>
  readonly train?: Partial<ReplicationSettings["train"]>
  readonly k?: number
  readonly pretrain?: ReplicationSettings["pretrain"]
}

/** `base` (the defaults) with `override`'s fields; `data`, `epochs`, `train` and `pretrain` are merged field by field. */
export const mergeSettings = (override: SettingsOverride, base: ReplicationSettings = defaultSettings): ReplicationSettings => {
  const pretrain = override.pretrain ? { ...base.pretrain, ...override.pretrain } : base.pretrain
  return {
    ...base,
    ...override,
    data: { ...base.data, ...override.data },
    epochs: { ...base.epochs, ...override.epochs },
    train: { ...base.train, ...override.train },
    ...(pretrain ? { pretrain } : {})
  }
}

export interface ReplicationRun {
  readonly method: Method
  readonly seed: number
  readonly exactMatch: number
  readonly byRelation: Record<string, number>
  readonly trainSeconds: number
  /** CPU time (user + system, all threads) of the training: meaningful on a shared machine. */
  readonly trainCpuSeconds: number
  readonly evalSeconds: number
  /** Memorization of the test documents at the end of training (perplexity, fact recall). */
  readonly testDocs: DocumentRecallReport
  /** Tokens trained on (every epoch of every phase), and of those the test documents' tokens. */
  readonly trainTokens: number
  readonly testDocTokens: number
  /** The shared base's pre-training (the same for every method of a seed), when `settings.pretrain`. */
  readonly pretraining?: { readonly tokens: number; readonly seconds: number; readonly cpuSeconds: number }
  readonly report: KShotReport
}

// The pre-trained base of a (seed, settings), kept so that the methods of one process share it.
const bases = new Map<string, { model: Gpt2Decoder; seconds: number; cpuSeconds: number; tokens: number }>()

/** The base model every method of `seed` starts from under `settings.pretrain` (trained once per process). */
export const pretrainedBase = (data: Biographies, tokenizer: WordTokenizer, seed: number, settings: ReplicationSettings) => {
  const key = JSON.stringify([seed, settings.data, settings.train, settings.pretrain])
  const cached = bases.get(key)
  if (cached) return cached
  const started = performance.now()
  const cpu = process.cpuUsage()
  const { model, phases } = trainCausalLm(pretrainingCurriculum(data.pretrainDocs ?? [], settings.pretrain!.epochs, data.pretrainQa), tokenizer, { ...settings.train, ...(settings.pretrain!.lr ? { lr: settings.pretrain!.lr } : {}), seed: seed + 1000 })
  const cpuUsed = process.cpuUsage(cpu)
  const base = { model, seconds: (performance.now() - started) / 1000, cpuSeconds: (cpuUsed.user + cpuUsed.system) / 1e6, tokens: phases.reduce((a, p) => a + p.tokensPerEpoch * p.epochs, 0) }
  bases.set(key, base)
  return base
}

export const runReplication = (method: Method, seed: number, settings: ReplicationSettings = defaultSettings): ReplicationRun => {
  const data = makeBiographies({ ...settings.data, pretrainPeople: settings.pretrain?.people ?? 0, pretrainQaPeople: settings.pretrain?.qaPeople ?? 0, seed })
  // The data seed also orders each document's questions in PIT units.
  const curriculum = buildCurriculum(method, data, { qaOrderSeed: seed, ...settings.epochs })
  // The same vocabulary for every method: the words of all the data (no facts leak through ids).
  const tokenizer = WordTokenizer.fromTexts(vocabularyTexts(data))
  const base = settings.pretrain ? pretrainedBase(data, tokenizer, seed, settings) : undefined
  const started = performance.now()
  const cpu = process.cpuUsage()
  const { model, phases } = trainCausalLm(curriculum, tokenizer, { ...settings.train, seed, ...(base ? { base: base.model } : {}) })
  const trained = performance.now()
  const cpuUsed = process.cpuUsage(cpu)
  const testDocIds = new Set(data.testDocs.map((d) => `doc:${d.id}`))
  const testDocTokens = curriculum.phases.reduce(
    (a, p) => a + p.epochs * p.units.filter((u) => testDocIds.has(u.id)).reduce((b, u) => b + u.segments.reduce((c, s) => c + tokenizer.encode(s.text).length, 0), 0),
    0
  )
  const testDocs = documentRecall(model, tokenizer, data.testDocs, data.testQa)
  const report = evaluateKShot(model, tokenizer, data.testQa, data.trainQa, { k: settings.k, seed: seed + 7, maxNewTokens: 8, batchSize: 64 })
  return {
    method,
    seed,
    exactMatch: report.exactMatch,
    byRelation: report.byRelation,
    trainSeconds: (trained - started) / 1000,
    trainCpuSeconds: (cpuUsed.user + cpuUsed.system) / 1e6,
    evalSeconds: (performance.now() - trained) / 1000,
    testDocs,
    trainTokens: phases.reduce((a, p) => a + p.tokensPerEpoch * p.epochs, 0),
    testDocTokens,
    ...(base ? { pretraining: { tokens: base.tokens, seconds: base.seconds, cpuSeconds: base.cpuSeconds } } : {}),
    report
  }
}
