import { Params, Ports, Stage, StageContext, StageError, withDefault } from "@embedflow/core"
import { Effect, Schema } from "effect"
import type { DataError } from "./DataError.js"
import { dataSetFolders } from "./DataSetFolders.js"
import * as IrCollection from "./IrCollection.js"
import * as Snli from "./Snli.js"
import * as StsB from "./StsB.js"

const DataDir = Schema.optionalKey(
  Params.folderPath("data folder (relative to the graph file); default: $EMBEDFLOW_DATA or the nearest shared/data")
)

const root = (dataDir: string | undefined) =>
  Effect.gen(function* () {
    const ctx = yield* StageContext
    return { root: dataDir === undefined ? undefined : ctx.resolvePath(dataDir) }
  })

const toStageError = (what: string) => (e: DataError) => new StageError({ message: `cannot load ${what}: ${e.message}`, cause: e })

/** Unique texts in first-seen order with ids `s0, s1, …`, and the id of each text. */
const uniqueTexts = (texts: Iterable<string>) => {
  const ids = new Map<string, string>()
  for (const t of texts) if (!ids.has(t)) ids.set(t, `s${ids.size}`)
  return { ids, records: Array.from(ids, ([text, id]) => ({ id, text })) }
}

export const stsB = Stage.make({
  name: "data/sts-b",
  version: "1",
  description: "STS Benchmark pairs with gold scores 0-5, and the distinct sentences to embed",
  params: Schema.Struct({ split: withDefault(StsB.Split, "test"), dataDir: DataDir }),
  inputs: {},
  outputs: { pairs: Ports.ScoredPairs, sentences: Ports.Texts },
  reads: (params, context) => dataSetFolders(params.dataDir, context, "stsbenchmark"),
  run: (params) =>
    Effect.gen(function* () {
      const pairs = yield* StsB.load(params.split, yield* root(params.dataDir)).pipe(Effect.mapError(toStageError(`STS-B ${params.split}`)))
      const { records } = uniqueTexts(pairs.flatMap((p) => [p.sentence1, p.sentence2]))
      return { pairs: pairs.map((p) => ({ id: p.id, a: p.sentence1, b: p.sentence2, score: p.score })), sentences: records }
    })
})

export const snliTriples = Stage.make({
  name: "data/snli-triples",
  version: "1",
  description: "SNLI (anchor, entailed, contradicted) triples grouped by premise, and the distinct premises",
  params: Schema.Struct({ split: withDefault(Schema.Literals(["dev", "test", "dev+test"]), "dev"), dataDir: DataDir }),
  inputs: {},
  outputs: { triples: Ports.Triples, premises: Ports.Texts },
  reads: (params, context) => dataSetFolders(params.dataDir, context, "snli"),
  run: (params) =>
    Effect.gen(function* () {
      const options = yield* root(params.dataDir)
      const splits: ReadonlyArray<Snli.Split> = params.split === "dev+test" ? ["dev", "test"] : [params.split]
      const pairs: Array<Snli.Pair> = []
      for (const split of splits) {
        pairs.push(...(yield* Snli.load(split, options).pipe(Effect.mapError(toStageError(`SNLI ${split}`)))))
      }
      const triples = Snli.triples(pairs)
      return { triples, premises: uniqueTexts(pairs.map((p) => p.premise)).records }
    })
})

export const irCollection = Stage.make({
  name: "data/ir-collection",
  version: "1",
  description: "an IR test collection (Cranfield, CISI): documents (title + abstract), queries, graded judgments",
  params: Schema.Struct({
    collection: IrCollection.Name,
    cranfieldSource: withDefault(Schema.Literals(["not-relevant", "most-relevant"]), "not-relevant"),
    dataDir: DataDir
  }),
  inputs: {},
  outputs: { documents: Ports.Texts, queries: Ports.Texts, qrels: Ports.Qrels },
  reads: (params, context) => dataSetFolders(params.dataDir, context, params.collection),
  run: (params) =>
    Effect.gen(function* () {
      const options = { ...(yield* root(params.dataDir)), cranfieldSource: params.cranfieldSource }
      const c = yield* IrCollection.load(params.collection, options).pipe(Effect.mapError(toStageError(params.collection)))
      return {
        documents: c.documents.map((d) => ({ id: d.id, text: IrCollection.documentText(d) })),
        queries: c.queries.map((q) => ({ id: q.id, text: q.text })),
        qrels: c.qrels
      }
    })
})
