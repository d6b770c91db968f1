import * as fs from "node:fs"
import * as path from "node:path"
import { Rng } from "@embedflow/tensor"
import { Data, Effect, Schema } from "effect"
import { type Mapped, mapRow, MissingColumns, resolveColumns, type Resolved, RowProblem, type Shape } from "./ColumnMapping.js"
import { DataReadError } from "./DataError.js"
import { dataFilesIn, type FileFormat, formatOf, readRows, type Row } from "./internal/rowSource.js"

export const Format = Schema.Literals(["auto", "jsonl", "csv", "tsv", "parquet"])
export type Format = typeof Format.Type
export const OnError = Schema.Literals(["fail", "skip"])
export type OnError = typeof OnError.Type

/** A row of a user's file that is malformed or cannot be mapped (file:line, and the column when known). */
export class DataRowError extends Data.TaggedError("DataRowError")<{
  readonly file: string
  readonly line: number
  readonly column?: number | string | undefined
  readonly reason: string
}> {
  override get message(): string {
    return `${location(this)}: ${this.reason}`
  }
}

/** A whole file or folder is unusable: empty, missing columns, duplicate ids, mixed splits. */
export class DataFileError extends Data.TaggedError("DataFileError")<{ readonly file: string; readonly reason: string }> {
  override get message(): string {
    return `${this.file}: ${this.reason}`
  }
}

export type LoadError = DataRowError | DataFileError | DataReadError

const location = (r: { file: string; line: number; column?: number | string | undefined }) =>
  typeof r.column === "number" ? `${r.file}:${r.line}:${r.column}` : r.column !== undefined ? `${r.file}:${r.line} (column '${r.column}')` : `${r.file}:${r.line}`

export interface LoadOptions {
  readonly shape: Shape
  /** Field -> column name, overriding the defaults (see ColumnMapping.fields). */
  readonly columns?: Readonly<Record<string, string>> | undefined
  readonly format?: Format | undefined
  /** For folders: keep the files of this split (a path segment, or a file name `split-*`, `split.*`, `split_*`). */
  readonly split?: string | undefined
  /** Stop after this many good rows. */
  readonly limit?: number | undefined
  /** Keep this many rows drawn uniformly at random (reservoir sampling, in file order); needs `seed`. */
  readonly sample?: number | undefined
  readonly seed?: number | undefined
  readonly onError?: OnError | undefined
  /** Prefix of generated ids (rows without an id column get `${idPrefix}${row index}`). */
  readonly idPrefix?: string | undefined
}

export interface SkippedRow {
  readonly file: string
  readonly line: number
  readonly column?: number | string
  readonly reason: string
}

/** What was read: counts per file, the skipped rows (the first 20, with reasons), sampling. */
export interface LoadReport {
  readonly shape: Shape
  readonly files: ReadonlyArray<{ readonly file: string; readonly format: FileFormat; readonly rows: number; readonly columns: Readonly<Record<string, string>> }>
  readonly rows: number
  readonly records: number
  readonly skipped: number
  readonly skippedRows: ReadonlyArray<SkippedRow>
  readonly generatedIds: boolean
  readonly limitReached: boolean
  readonly sample?: { readonly size: number; readonly from: number; readonly seed: number }
}

/** Progress of a load: `done` of `total` units (bytes, or rows for Parquet) of file `fileIndex` of `files`. */
export interface Tick {
  readonly file: string
  readonly fileIndex: number
  readonly files: number
  readonly unit: string
  readonly done: number
  readonly total: number
}

export interface Loaded<A = Mapped> {
  readonly records: Array<A>
  readonly report: LoadReport
}

const KNOWN_SPLITS = ["train", "validation", "valid", "dev", "test"]

/** The split a file belongs to in a Hugging Face layout (`data/train-00000-of-00002.parquet`, `train/0000.parquet`). */
export const splitOf = (rel: string): string | undefined => {
  const parts = rel.split(/[\\/]/)
  const base = parts.pop()!
  const m = /^([A-Za-z]+)(?=[-_.])/.exec(base)
  if (m && KNOWN_SPLITS.includes(m[1]!.toLowerCase())) return m[1]!.toLowerCase()
  return parts.reverse().find((p) => KNOWN_SPLITS.includes(p.toLowerCase()))?.toLowerCase()
}

/** The data files a path names: the file itself, or the files of a folder (of one split). */
export const filesOf = (target: string, split: string | undefined): Array<string> => {
  let stat: fs.Stats
  try {
    stat = fs.statSync(target)
  } catch (e) {
    throw new DataReadError({ path: target, message: `cannot read ${target}: ${(e as Error).message}`, cause: e })
  }
  if (!stat.isDirectory()) return [target]
  const all = dataFilesIn(target)
  if (all.length === 0) {
    const arrow = fs.readdirSync(target, { recursive: true }).some((f) => String(f).endsWith(".arrow"))
    throw new DataFileError({
      file: target,
      reason: arrow
        ? "holds Arrow files (datasets' save_to_disk) but no JSONL, CSV, TSV or Parquet: export it with `ds.to_parquet(...)` or load the hub's parquet shards"
        : "holds no data files (.jsonl, .json, .csv, .tsv, .parquet)"
    })
  }
  const splits = new Map<string, string | undefined>(all.map((f) => [f, splitOf(path.relative(target, f))]))
  if (split !== undefined) {
    const chosen = all.filter((f) => splits.get(f) === split.toLowerCase())
    if (chosen.length === 0) throw new DataFileError({ file: target, reason: `has no files of split '${split}' (splits found: ${[...new Set(splits.values())].filter((s) => s).join(", ") || "none"})` })
    return chosen
  }
  const found = [...new Set(splits.values())].filter((s) => s !== undefined)
  if (found.length > 1) throw new DataFileError({ file: target, reason: `holds several splits (${found.join(", ")}): give \`split\`` })
  return all
}

/**
 * Reads a file or folder into records of `shape`, one row at a time. Yields a progress tick about
 * every 1024 rows (`done`/`total` in bytes or Parquet rows of the current file, with its index), so
 * a caller can report progress; the result comes back from the generator's return.
 */
export async function* loadRows(
  target: string,
  options: LoadOptions
): AsyncGenerator<Tick, Loaded, void> {
  const files = filesOf(target, options.split)
  const onError = options.onError ?? "fail"
  if (options.sample !== undefined && options.seed === undefined) throw new DataFileError({ file: target, reason: "`sample` needs a `seed`" })
  const rng = options.sample !== undefined ? new Rng(options.seed!) : undefined
  const reservoir: Array<{ order: number; records: Array<Mapped> }> = []
  const kept: Array<Mapped> = []
  const skippedRows: Array<SkippedRow> = []
  let skipped = 0
  let rows = 0
  let limitReached = false
  let hasIds = true
  const seen = new Map<string, string>()
  const fileReports: Array<{ file: string; format: FileFormat; rows: number; columns: Resolved }> = []

  const skip = (r: SkippedRow) => {
    if (onError === "fail") throw new DataRowError(r)
    skipped++
    if (skippedRows.length < 20) skippedRows.push(r)
  }

  for (const [fileIndex, file] of files.entries()) {
    const format = options.format === undefined || options.format === "auto" ? formatOf(file) : options.format
    if (format === undefined) throw new DataFileError({ file, reason: "unknown format: name it .jsonl, .csv, .tsv or .parquet, or set `format`" })
    let resolved: Resolved | undefined
    let fileRows = 0
    let anyRow = false
    let tick = { done: 0, total: 0 }
    const source = readRows(file, format, (p) => (tick = p))
    batches: for await (const batch of source as AsyncIterable<Array<Row>>) {
      yield { file, fileIndex, files: files.length, unit: format === "parquet" ? "rows" : "bytes", ...tick }
      for (const row of batch) {
        anyRow = true
        if (!row.ok) {
          skip({ file: row.file, line: row.line, ...(row.column !== undefined ? { column: row.column } : {}), reason: row.reason })
          continue
        }
        if (resolved === undefined) {
          try {
            resolved = resolveColumns(options.shape, Object.keys(row.values), options.columns)
          } catch (e) {
            if (e instanceof MissingColumns) throw new DataFileError({ file, reason: e.message })
            throw e
          }
          if (resolved.id === undefined && ["texts", "scored-pairs", "labelled"].includes(options.shape)) hasIds = false
        }
        let records: Array<Mapped>
        try {
          records = mapRow(options.shape, resolved, row.values)
        } catch (e) {
          if (!(e instanceof RowProblem)) throw e
          skip({ file, line: row.line, column: e.column, reason: e.reason })
          continue
        }
        const key = rowKey(options.shape, resolved, records[0]!)
        if (key !== undefined) {
          const first = seen.get(key)
          if (first !== undefined) {
            skip({ file, line: row.line, column: resolved.id ?? `${resolved.queryId}+${resolved.docId}`, reason: `duplicate ${keyName(options.shape)} ${JSON.stringify(key.replace("\u0000", " / "))} (first at ${first})` })
            continue
          }
          seen.set(key, `${file}:${row.line}`)
        }
        const order = rows++
        fileRows++
        if (rng) {
          // Reservoir sampling (Algorithm R): every row ends up kept with probability sample/rows.
          if (reservoir.length < options.sample!) reservoir.push({ order, records })
          else {
            const j = rng.int(order + 1)
            if (j < options.sample!) reservoir[j] = { order, records }
          }
        } else for (const r of records) kept.push(r)
        if (options.limit !== undefined && rows >= options.limit) {
          limitReached = true
          break batches
        }
      }
    }
    if (!anyRow) throw new DataFileError({ file, reason: "is empty (no rows)" })
    fileReports.push({ file, format, rows: fileRows, columns: resolved ?? {} })
    if (limitReached) break
  }
  if (rows === 0) {
    throw new DataFileError({ file: target, reason: `no usable row (${skipped} skipped${skippedRows[0] ? `; first: ${location(skippedRows[0])}: ${skippedRows[0].reason}` : ""})` })
  }
  const records = rng ? reservoir.sort((a, b) => a.order - b.order).flatMap((r) => r.records) : kept
  if (!hasIds) records.forEach((r, i) => (r.id = `${options.idPrefix ?? ""}${i}`))
  if (options.shape === "candidates") fillRanks(records)
  return {
    records,
    report: {
      shape: options.shape,
      files: fileReports,
      rows,
      records: records.length,
      skipped,
      skippedRows,
      generatedIds: !hasIds,
      limitReached,
      ...(rng ? { sample: { size: reservoir.length, from: rows, seed: options.seed! } } : {})
    }
  }
}

const keyName = (shape: Shape) => (shape === "qrels" ? "judgment (query / doc)" : shape === "candidates" ? "candidate (query / doc)" : "id")

const rowKey = (shape: Shape, resolved: Resolved, first: Mapped): string | undefined => {
  if (shape === "qrels" || shape === "candidates") return `${first.queryId as string}\u0000${first.docId as string}`
  if (resolved.id === undefined) return undefined
  return shape === "pairs" || shape === "triples" ? ((first.meta as { id: string }).id) : (first.id as string)
}

/** Candidates without a rank column are ranked by score within their query (1 = best; ties keep file order). */
const fillRanks = (records: Array<Mapped>) => {
  if (records.every((r) => r.rank !== undefined)) return
  const byQuery = new Map<string, Array<Mapped>>()
  for (const r of records) {
    const list = byQuery.get(r.queryId as string)
    if (list) list.push(r)
    else byQuery.set(r.queryId as string, [r])
  }
  for (const list of byQuery.values()) {
    ;[...list].sort((a, b) => (b.score as number) - (a.score as number)).forEach((r, i) => (r.rank = i + 1))
  }
}

/** Runs `loadRows` to the end as an Effect, reporting progress through `onTick`. */
export const load = <R = never>(
  target: string,
  options: LoadOptions,
  onTick: (t: Tick) => Effect.Effect<void, never, R> = () => Effect.void
): Effect.Effect<Loaded, LoadError, R> =>
  Effect.gen(function* () {
    const toError = (e: unknown): LoadError =>
      e instanceof DataRowError || e instanceof DataFileError || e instanceof DataReadError
        ? e
        : new DataReadError({ path: target, message: `cannot read ${target}: ${e instanceof Error ? e.message : String(e)}`, cause: e })
    const it = yield* Effect.try({ try: () => loadRows(target, options), catch: toError })
    while (true) {
      const step = yield* Effect.tryPromise({ try: () => it.next(), catch: toError })
      if (step.done) return step.value
      yield* onTick(step.value)
    }
  })
