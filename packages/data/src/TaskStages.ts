import { Params, Ports, PositiveInt, Stage, StageContext, StageError, withDefault } from "@embedflow/core"
import { Effect, Schema } from "effect"
import type { DataError } from "./DataError.js"
import { dataSetFolders } from "./DataSetFolders.js"
import { capPerLabel, labelledExamples, LabelledSet, snliPairLabels } from "./TaskSets.js"

const root = (dataDir: string | undefined) =>
  Effect.gen(function* () {
    const ctx = yield* StageContext
    return { root: dataDir === undefined ? undefined : ctx.resolvePath(dataDir) }
  })

/** Where each labelled set lives under the data root. */
const labelledSetFolders = { trec: "trec", sst2: "sst2", "ag-news": "ag_news" } as const

const toStageError = (what: string) => (e: DataError) => new StageError({ message: `cannot load ${what}: ${e.message}`, cause: e })

/** Distinct texts with ids `s0, s1, …` in first-seen order. */
const distinct = (texts: Iterable<string>) => Array.from(new Set(texts), (text, i) => ({ id: `s${i}`, text }))

export const labelledSet = Stage.make({
  name: "data/labelled-set",
  version: "1",
  description: "TREC (coarse), SST-2 or AG News as labelled examples (AG News: even rows train, odd rows test), and their texts",
  params: Schema.Struct({
    set: LabelledSet,
    split: withDefault(Schema.Literals(["train", "test", "all"]), "test"),
    perLabel: Schema.optionalKey(Params.describe(PositiveInt, "keep at most this many examples a label (seeded random draw, file order kept)")),
    dataDir: Schema.optionalKey(Params.folderPath("data folder (relative to the graph file); default: $EMBEDFLOW_DATA or the nearest shared/data"))
  }),
  inputs: {},
  outputs: { examples: Ports.LabeledExamples, texts: Ports.Texts },
  reads: (params, context) => dataSetFolders(params.dataDir, context, labelledSetFolders[params.set]),
  run: (params) =>
    Effect.gen(function* () {
      const all = yield* labelledExamples(params.set, params.split, yield* root(params.dataDir)).pipe(Effect.mapError(toStageError(`${params.set} ${params.split}`)))
      const examples = params.perLabel === undefined ? all : capPerLabel(all, params.perLabel, (yield* StageContext).seed)
      return { examples, texts: examples.map((e) => ({ id: e.id, text: e.text })) }
    })
})

export const snliPairs = Stage.make({
  name: "data/snli-pair-labels",
  version: "1",
  description: "SNLI entailment (score 1) vs contradiction (score 0) pairs, neutral left out, and the distinct sentences",
  params: Schema.Struct({ split: withDefault(Schema.Literals(["dev", "test"]), "test"), dataDir: Schema.optionalKey(Params.folderPath("data folder (relative to the graph file); default: $EMBEDFLOW_DATA or the nearest shared/data")) }),
  inputs: {},
  outputs: { pairs: Ports.ScoredPairs, sentences: Ports.Texts },
  reads: (params, context) => dataSetFolders(params.dataDir, context, "snli"),
  run: (params) =>
    Effect.gen(function* () {
      const pairs = yield* snliPairLabels(params.split, yield* root(params.dataDir)).pipe(Effect.mapError(toStageError(`SNLI ${params.split}`)))
      return { pairs, sentences: distinct(pairs.flatMap((p) => [p.a, p.b])) }
    })
})
