import { Schema } from "effect"

/**
 * What a user's rows become: the record shape of one port type. Pairs and triples are `Triples`
 * records (a pair has no negative); a row with several positives or negatives becomes one record
 * per (positive, negative), as `bm25/hard-negatives` emits them.
 */
export const Shape = Schema.Literals(["texts", "pairs", "triples", "scored-pairs", "labelled", "qrels", "candidates"])
export type Shape = typeof Shape.Type

type FieldKind = "string" | "strings" | "number" | "label" | "int"

interface Field {
  readonly kind: FieldKind
  readonly required: boolean
  /** Column names tried in order when the user maps none (FlagEmbedding, sentence-transformers, BEIR, MTEB). */
  readonly defaults: ReadonlyArray<string>
}

const idField: Field = { kind: "string", required: false, defaults: ["id", "_id"] }
const anchor: Field = { kind: "string", required: true, defaults: ["anchor", "query", "sentence1", "question", "premise"] }
const positive: Field = { kind: "strings", required: true, defaults: ["positive", "pos", "sentence2", "answer", "hypothesis"] }

/** The fields of each shape, by the name the `columns` param maps. */
export const fields: Readonly<Record<Shape, Readonly<Record<string, Field>>>> = {
  texts: {
    id: idField,
    text: { kind: "string", required: true, defaults: ["text", "sentence", "content", "passage", "document"] },
    /** BEIR corpora: a non-empty title is prepended ("title text"), as sentence-transformers and MTEB do. */
    title: { kind: "string", required: false, defaults: ["title"] }
  },
  pairs: { id: idField, anchor, positive },
  triples: { id: idField, anchor, positive, negative: { kind: "strings", required: true, defaults: ["negative", "neg", "negatives", "hard_negative"] } },
  "scored-pairs": {
    id: idField,
    a: { kind: "string", required: true, defaults: ["sentence1", "text1", "a", "anchor", "query"] },
    b: { kind: "string", required: true, defaults: ["sentence2", "text2", "b", "positive", "document"] },
    score: { kind: "number", required: true, defaults: ["score", "similarity", "label", "relevance"] }
  },
  labelled: {
    id: idField,
    text: { kind: "string", required: true, defaults: ["text", "sentence", "content", "question"] },
    label: { kind: "label", required: true, defaults: ["label", "labels", "class", "category", "label_text"] }
  },
  qrels: {
    queryId: { kind: "string", required: true, defaults: ["query-id", "query_id", "qid", "queryId"] },
    docId: { kind: "string", required: true, defaults: ["corpus-id", "corpus_id", "doc_id", "docid", "docId", "pid"] },
    relevance: { kind: "int", required: true, defaults: ["score", "relevance", "label", "rel"] }
  },
  candidates: {
    queryId: { kind: "string", required: true, defaults: ["query-id", "query_id", "qid", "queryId"] },
    docId: { kind: "string", required: true, defaults: ["corpus-id", "corpus_id", "doc_id", "docid", "docId", "pid"] },
    score: { kind: "number", required: true, defaults: ["score"] },
    rank: { kind: "int", required: false, defaults: ["rank"] },
    text: { kind: "string", required: false, defaults: ["text"] }
  }
}

/** A row that cannot be mapped: the column at fault and why. */
export class RowProblem extends Error {
  constructor(
    readonly column: string,
    readonly reason: string
  ) {
    super(`column '${column}': ${reason}`)
  }
}

/** A required field has no column in the data: lists what was found. */
export class MissingColumns extends Error {
  constructor(
    readonly missing: ReadonlyArray<{ readonly field: string; readonly tried: ReadonlyArray<string> }>,
    readonly found: ReadonlyArray<string>
  ) {
    super(
      missing.map((m) => `no column for '${m.field}' (tried ${m.tried.map((t) => `'${t}'`).join(", ")})`).join("; ") +
        `; columns found: ${found.length === 0 ? "none" : found.map((f) => `'${f}'`).join(", ")}`
    )
  }
}

/** Field name -> column name, for the fields the data has. */
export type Resolved = Readonly<Record<string, string>>

/**
 * Picks a column for each field of `shape` from the columns of a file's first row: the user's
 * mapping when given, else the first default present. `negative_1..n` columns (sentence-transformers'
 * hard-negative sets) count as a negative column.
 */
export const resolveColumns = (shape: Shape, columns: ReadonlyArray<string>, overrides: Readonly<Record<string, string>> = {}): Resolved => {
  const present = new Set(columns)
  const out: Record<string, string> = {}
  const missing: Array<{ field: string; tried: ReadonlyArray<string> }> = []
  for (const name of Object.keys(overrides)) {
    if (!(name in fields[shape])) throw new MissingColumns([{ field: name, tried: [overrides[name]!] }], columns)
  }
  for (const [name, field] of Object.entries(fields[shape])) {
    const tried = overrides[name] !== undefined ? [overrides[name]] : field.defaults
    const hit = tried.find((c) => present.has(c))
    if (hit !== undefined) out[name] = hit
    else if (name === "negative" && overrides[name] === undefined && columns.some((c) => /^negative_\d+$/.test(c))) out[name] = "negative_*"
    else if (field.required || overrides[name] !== undefined) missing.push({ field: name, tried })
  }
  if (missing.length > 0) throw new MissingColumns(missing, columns)
  return out
}

const describe = (v: unknown) => (v === undefined ? "nothing" : v === null ? "null" : typeof v === "string" ? JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v) : typeof v === "object" ? (Array.isArray(v) ? "a list" : "an object") : String(v))

const asString = (column: string, v: unknown): string => {
  if (typeof v === "string") {
    if (v.trim() === "") throw new RowProblem(column, "expected a non-empty text, found an empty one")
    return v
  }
  if (typeof v === "number" || typeof v === "bigint") return String(v)
  throw new RowProblem(column, `expected a text, found ${describe(v)}`)
}

const asStrings = (column: string, v: unknown): Array<string> => {
  if (Array.isArray(v)) {
    if (v.length === 0) throw new RowProblem(column, "expected at least one text, found an empty list")
    return v.map((x, i) => asString(`${column}[${i}]`, x))
  }
  return [asString(column, v)]
}

const asNumber = (column: string, v: unknown): number => {
  const n = typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN
  if (!Number.isFinite(n)) throw new RowProblem(column, `expected a number, found ${describe(v)}`)
  return n
}

const asInt = (column: string, v: unknown): number => {
  const n = asNumber(column, v)
  if (!Number.isInteger(n)) throw new RowProblem(column, `expected an integer, found ${describe(v)}`)
  return n
}

const value = (row: Readonly<Record<string, unknown>>, column: string, required: boolean): unknown => {
  const v = row[column]
  if (required && (v === undefined || v === null)) throw new RowProblem(column, "missing in this row")
  return v
}

/** Negatives from one column (text or list) or from `negative_1..n`. */
const negatives = (row: Readonly<Record<string, unknown>>, column: string): Array<string> => {
  if (column !== "negative_*") return asStrings(column, value(row, column, true))
  const cols = Object.keys(row).filter((c) => /^negative_\d+$/.test(c)).sort((a, b) => Number(a.slice(9)) - Number(b.slice(9)))
  const out = cols.filter((c) => row[c] !== null && row[c] !== undefined && row[c] !== "").map((c) => asString(c, row[c]))
  if (out.length === 0) throw new RowProblem("negative_*", "no negative in this row")
  return out
}

/** A mapped record before ids are filled in: `id` is undefined when the data has no id column. */
export type Mapped = Record<string, unknown>

/** The records one row becomes (several for lists of positives/negatives). */
export const mapRow = (shape: Shape, resolved: Resolved, row: Readonly<Record<string, unknown>>): Array<Mapped> => {
  const id = resolved.id !== undefined ? asString(resolved.id, value(row, resolved.id, true)) : undefined
  const str = (field: string) => asString(resolved[field]!, value(row, resolved[field]!, true))
  switch (shape) {
    case "texts": {
      const title = resolved.title !== undefined ? row[resolved.title] : undefined
      const text = str("text")
      return [{ id, text: typeof title === "string" && title.trim() !== "" ? `${title} ${text}` : text }]
    }
    case "pairs":
    case "triples": {
      const a = str("anchor")
      const positives = asStrings(resolved.positive!, value(row, resolved.positive!, true))
      const negs = shape === "triples" ? negatives(row, resolved.negative!) : [undefined]
      const meta = id !== undefined ? { id } : undefined
      return positives.flatMap((p) =>
        negs.map((n) => ({ anchor: a, positive: p, ...(n !== undefined ? { negative: n } : {}), ...(meta ? { meta } : {}) }))
      )
    }
    case "scored-pairs":
      return [{ id, a: str("a"), b: str("b"), score: asNumber(resolved.score!, value(row, resolved.score!, true)) }]
    case "labelled": {
      const label = value(row, resolved.label!, true)
      if (typeof label !== "string" && typeof label !== "number" && typeof label !== "bigint" && typeof label !== "boolean") {
        throw new RowProblem(resolved.label!, `expected a label (text or number), found ${describe(label)}`)
      }
      return [{ id, text: str("text"), label: String(label) }]
    }
    case "qrels":
      return [{ queryId: str("queryId"), docId: str("docId"), relevance: asInt(resolved.relevance!, value(row, resolved.relevance!, true)) }]
    case "candidates": {
      const rank = resolved.rank !== undefined ? value(row, resolved.rank, false) : undefined
      const text = resolved.text !== undefined ? value(row, resolved.text, false) : undefined
      return [
        {
          queryId: str("queryId"),
          docId: str("docId"),
          score: asNumber(resolved.score!, value(row, resolved.score!, true)),
          ...(rank !== undefined && rank !== null ? { rank: asInt(resolved.rank!, rank) } : {}),
          ...(text !== undefined && text !== null ? { text: asString(resolved.text!, text) } : {})
        }
      ]
    }
  }
}

/** The key that must be unique per shape (ids; a qrel's or candidate's (query, doc)); none for pairs/triples without ids. */
export const uniqueKey = (shape: Shape, r: Mapped): string | undefined =>
  shape === "qrels" || shape === "candidates"
    ? `${r.queryId as string}\u0000${r.docId as string}`
    : shape === "pairs" || shape === "triples"
      ? undefined
      : (r.id as string | undefined)
