import { Effect, Schema, Stream } from "effect"
import { Ports } from "@embedflow/core"
import { DataFormatError } from "./DataError.js"
import * as DataRoot from "./DataRoot.js"
import { preview, readLines, streamFrom } from "./internal/lines.js"
import { parseSmart } from "./internal/smart.js"

/** Classic IR test collections in the SMART layout: Cranfield 1400 and CISI. */
export const Name = Schema.Literals(["cranfield", "cisi"])
export type Name = typeof Name.Type

export const Document = Schema.Struct({
  id: Schema.String,
  title: Schema.String,
  /** The abstract (`.W`). In Cranfield it begins with the title again; in CISI it does not. */
  text: Schema.String,
  authors: Schema.String,
  bibliography: Schema.String
})
export type Document = typeof Document.Type

export const Query = Schema.Struct({
  /** Position in the query file, 1-based: the id the judgments use. */
  id: Schema.String,
  /** The `.I` value in the query file (Cranfield's skip numbers: 001, 002, 004, …). */
  sourceId: Schema.String,
  text: Schema.String
})
export type Query = typeof Query.Type

/** The relevance-judgment record lives with the port types in core. */
export const Qrel = Ports.Qrel
export type Qrel = Ports.Qrel

export const Collection = Schema.Struct({
  name: Name,
  documents: Schema.Array(Document),
  queries: Schema.Array(Query),
  qrels: Schema.Array(Qrel)
})
export type Collection = typeof Collection.Type

/**
 * How Cranfield's -1 judgments count. Each query has exactly one: its source document, the paper
 * whose author posed the question (query 1 "similarity laws … aeroelastic models of heated high
 * speed aircraft" -> doc 486 "similarity laws for aerothermoelastic testing"). BM25 puts it at rank
 * 1 for 40% of the queries, so counting it as relevant inflates nDCG@10 by ~0.17 over published
 * figures, which (like ir_datasets) do not count it. "not-relevant" (default) gives it gain 0;
 * "most-relevant" takes "lower code is more relevant" literally and gives it gain 5.
 */
export type CranfieldSource = "not-relevant" | "most-relevant"

export interface IrLoadOptions extends DataRoot.LoadOptions {
  readonly cranfieldSource?: CranfieldSource
}

/**
 * Cranfield codes (cranqrel.readme, after Cleverdon): 1 complete answer, 2 high relevance,
 * 3 useful, 4 minimum interest: lower is more relevant, so the gain is 5 - code (4..1); -1 see
 * {@link CranfieldSource}.
 */
export const cranfieldGrade = (code: number, source: CranfieldSource = "not-relevant"): number =>
  code === -1 ? (source === "most-relevant" ? 5 : 0) : 5 - code

interface Layout {
  readonly dir: string
  readonly docs: string
  readonly queries: string
  readonly qrels: string
  readonly docMarkers: string
  readonly queryMarkers: string
}

const layouts: Record<Name, Layout> = {
  cranfield: { dir: "cranfield", docs: "cran.all.1400", queries: "cran.qry", qrels: "cranqrel", docMarkers: "ITABW", queryMarkers: "IW" },
  // CISI.ALL carries citation lists (.X) and, once, keywords (.K) and classification codes (.C).
  cisi: { dir: "cisi", docs: "CISI.ALL", queries: "CISI.QRY", qrels: "CISI.REL", docMarkers: "ITABWXKC", queryMarkers: "ITABW" }
}

const inLayout = <A>(
  name: Name,
  pick: (l: Layout) => string,
  what: string,
  options: DataRoot.LoadOptions | undefined,
  body: (file: string) => AsyncIterable<A>
) =>
  Stream.unwrap(
    Effect.map(DataRoot.file(options, layouts[name].dir, pick(layouts[name])), (file) =>
      streamFrom(file, () => body(file), { what, allowEmpty: options?.allowEmpty })
    )
  )

export const streamDocuments = (name: Name, options?: DataRoot.LoadOptions) =>
  inLayout(name, (l) => l.docs, "document (.I record)", options, async function* (file) {
    for await (const r of parseSmart(file, readLines(file), layouts[name].docMarkers)) {
      if (r.fields.W === undefined) throw new DataFormatError({ file, line: r.line, expected: `a .W field in document ${r.id}`, found: "none" })
      yield { id: String(Number(r.id)), title: r.fields.T ?? "", text: r.fields.W, authors: r.fields.A ?? "", bibliography: r.fields.B ?? "" } satisfies Document
    }
  })

export const streamQueries = (name: Name, options?: DataRoot.LoadOptions) =>
  inLayout(name, (l) => l.queries, "query (.I record)", options, async function* (file) {
    let position = 0
    for await (const r of parseSmart(file, readLines(file), layouts[name].queryMarkers)) {
      if (r.fields.W === undefined || r.fields.W === "") throw new DataFormatError({ file, line: r.line, expected: `a non-empty .W field in query ${r.id}`, found: "none" })
      yield { id: String(++position), sourceId: r.id, text: r.fields.W } satisfies Query
    }
  })

async function* qrelLines(name: Name, file: string, source: CranfieldSource): AsyncGenerator<{ readonly qrel: Qrel; readonly no: number }> {
  for await (const { text, no } of readLines(file)) {
    const t = text.trim()
    if (t === "") continue
    const f = t.split(/\s+/)
    if (name === "cranfield") {
      const code = Number(f[2])
      if (f.length !== 3 || !/^\d+$/.test(f[0]!) || !/^\d+$/.test(f[1]!) || ![-1, 1, 2, 3, 4].includes(code)) {
        throw new DataFormatError({ file, line: no, expected: "'<query> <doc> <code>' with code -1, 1, 2, 3 or 4", found: preview(text) })
      }
      yield { qrel: { queryId: String(Number(f[0])), docId: String(Number(f[1])), relevance: cranfieldGrade(code, source), code }, no }
    } else {
      if (f.length !== 4 || !/^\d+$/.test(f[0]!) || !/^\d+$/.test(f[1]!)) {
        throw new DataFormatError({ file, line: no, expected: "'<query> <doc> 0 0.000000' (binary judgments)", found: preview(text) })
      }
      yield { qrel: { queryId: String(Number(f[0])), docId: String(Number(f[1])), relevance: 1 }, no }
    }
  }
}

export const streamQrels = (name: Name, options?: IrLoadOptions) =>
  inLayout(name, (l) => l.qrels, "relevance judgment", options, async function* (file) {
    for await (const { qrel } of qrelLines(name, file, options?.cranfieldSource ?? "not-relevant")) yield qrel
  })

/** Documents, queries and judgments, checked against each other (unique ids, judgments name known ids). */
export const load = (name: Name, options?: IrLoadOptions) =>
  Effect.gen(function* () {
    const [documents, queries] = yield* Effect.all(
      [Stream.runCollect(streamDocuments(name, options)), Stream.runCollect(streamQueries(name, options))],
      { concurrency: 2 }
    )
    const docIds = new Set<string>()
    for (const d of documents) {
      if (docIds.has(d.id)) {
        const file = yield* DataRoot.file(options, layouts[name].dir, layouts[name].docs)
        return yield* new DataFormatError({ file, line: 0, expected: "unique document ids", found: `document ${d.id} twice` })
      }
      docIds.add(d.id)
    }
    const queryIds = new Set(queries.map((q) => q.id))
    const checked = inLayout(name, (l) => l.qrels, "relevance judgment", options, async function* (file) {
      for await (const { qrel, no } of qrelLines(name, file, options?.cranfieldSource ?? "not-relevant")) {
        if (!queryIds.has(qrel.queryId) || !docIds.has(qrel.docId)) {
          throw new DataFormatError({
            file,
            line: no,
            expected: `a query id in 1..${queries.length} and one of the ${docIds.size} document ids`,
            found: `query ${qrel.queryId}, document ${qrel.docId}`
          })
        }
        yield qrel
      }
    })
    const qrels = yield* Stream.runCollect(checked)
    return { name, documents, queries, qrels } satisfies Collection
  })

/** `{ queryId: { docId: relevance } }`, the layout of pytrec_eval / MTEB qrels (0-gain judgments kept, as trec_eval reads them). */
export const qrelsByQuery = (qrels: Iterable<Qrel>): Record<string, Record<string, number>> => {
  const out: Record<string, Record<string, number>> = {}
  for (const q of qrels) (out[q.queryId] ??= {})[q.docId] = q.relevance
  return out
}

/** Document text for retrieval: title and abstract, without repeating a title the abstract already opens with. */
export const documentText = (d: Document): string => (d.title === "" || d.text.startsWith(d.title) ? d.text : `${d.title}\n${d.text}`)
