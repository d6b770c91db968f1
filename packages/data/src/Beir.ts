import * as fs from "node:fs"
import * as path from "node:path"
import type { Ports } from "@embedflow/core"
import { Effect } from "effect"
import { DataFileError, load, type Loaded, type LoadError, type LoadOptions, type Tick } from "./LoadData.js"
import type { Qrel } from "./IrCollection.js"

/** A BEIR collection: documents ("title text"), the queries judged in the split, and its judgments. */
export interface BeirCollection {
  readonly documents: ReadonlyArray<Ports.TextRecord>
  readonly queries: ReadonlyArray<Ports.TextRecord>
  readonly qrels: ReadonlyArray<Qrel>
  readonly reports: { readonly corpus: Loaded["report"]; readonly queries: Loaded["report"]; readonly qrels: Loaded["report"] }
}

/**
 * Reads a BEIR folder: `corpus.jsonl` (`_id`, `title`, `text`), `queries.jsonl` (`_id`, `text`),
 * `qrels/<split>.tsv` (`query-id`, `corpus-id`, `score`). As BEIR's GenericDataLoader does, only
 * queries with a judgment in the split are kept.
 */
export const loadBeir = <R = never>(
  folder: string,
  split: string,
  options: Pick<LoadOptions, "onError"> = {},
  onTick: (t: Tick) => Effect.Effect<void, never, R> = () => Effect.void
): Effect.Effect<BeirCollection, LoadError, R> =>
  Effect.gen(function* () {
    const file = (...p: Array<string>) => path.join(folder, ...p)
    const need = (f: string) =>
      fs.existsSync(f) ? Effect.void : Effect.fail(new DataFileError({ file: folder, reason: `is not a BEIR folder: ${path.relative(folder, f)} is missing` }))
    yield* need(file("corpus.jsonl"))
    yield* need(file("queries.jsonl"))
    const qrelsFile = file("qrels", `${split}.tsv`)
    if (!fs.existsSync(qrelsFile)) {
      const splits = fs.existsSync(file("qrels")) ? fs.readdirSync(file("qrels")).filter((f) => f.endsWith(".tsv")).map((f) => f.slice(0, -4)) : []
      return yield* new DataFileError({ file: folder, reason: `has no qrels/${split}.tsv (splits found: ${splits.join(", ") || "none"})` })
    }
    const common = { onError: options.onError, format: "auto" as const }
    const corpus = yield* load(file("corpus.jsonl"), { ...common, shape: "texts" }, onTick)
    const queries = yield* load(file("queries.jsonl"), { ...common, shape: "texts" }, onTick)
    const qrels = yield* load(qrelsFile, { ...common, shape: "qrels" }, onTick)
    const judged = new Set(qrels.records.map((q) => q.queryId as string))
    const docIds = new Set(corpus.records.map((d) => d.id as string))
    const unknown = qrels.records.find((q) => !docIds.has(q.docId as string))
    if (unknown) {
      return yield* new DataFileError({ file: qrelsFile, reason: `judges document '${unknown.docId as string}' (query '${unknown.queryId as string}'), which is not in corpus.jsonl` })
    }
    return {
      documents: corpus.records as unknown as Array<Ports.TextRecord>,
      queries: (queries.records as unknown as Array<Ports.TextRecord>).filter((q) => judged.has(q.id)),
      qrels: qrels.records as unknown as Array<Qrel>,
      reports: { corpus: corpus.report, queries: queries.report, qrels: qrels.report }
    }
  })
