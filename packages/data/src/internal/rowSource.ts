import * as fs from "node:fs"
import * as path from "node:path"
import * as readline from "node:readline"
import { parse as parseCsv } from "csv-parse"
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from "hyparquet"

/** How a data file is laid out; `auto` picks by extension (.jsonl/.json/.ndjson, .csv, .tsv/.tab, .parquet). */
export type FileFormat = "jsonl" | "csv" | "tsv" | "parquet"

/** One row of a data file: its fields by column name, or why it could not be read. */
export type Row =
  | { readonly ok: true; readonly file: string; readonly line: number; readonly values: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly file: string; readonly line: number; readonly column?: number | string; readonly reason: string }

export interface ReadProgress {
  /** Bytes consumed of the file (Parquet: rows, counted as bytes of the row groups read). */
  readonly done: number
  readonly total: number
}

const extensions: ReadonlyArray<readonly [RegExp, FileFormat]> = [
  [/\.(jsonl|ndjson|json)$/i, "jsonl"],
  [/\.csv$/i, "csv"],
  [/\.(tsv|tab)$/i, "tsv"],
  [/\.parquet$/i, "parquet"]
]

export const formatOf = (file: string): FileFormat | undefined => extensions.find(([re]) => re.test(file))?.[1]

/** Metadata that `datasets` writes next to the data (save_to_disk, the hub): never rows. */
const METADATA = new Set(["dataset_info.json", "state.json", "dataset_dict.json", "dataset_infos.json"])

/** Data files under `dir` (recursively, sorted by path; hidden files and `datasets` metadata left out). */
export const dataFilesIn = (dir: string): Array<string> => {
  const out: Array<string> = []
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith(".") || METADATA.has(e.name)) continue
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (formatOf(e.name)) out.push(p)
    }
  }
  walk(dir)
  return out
}

/** Rows are handed over in batches: one await per batch instead of one per row. */
const BATCH = 1024

/** JSON Lines: one object per line; blank lines are skipped; a parse error names the column where it was found. */
async function* jsonlRows(file: string, onProgress: (p: ReadProgress) => void): AsyncGenerator<Array<Row>> {
  const total = fs.statSync(file).size
  const input = fs.createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 20 })
  const rl = readline.createInterface({ input, crlfDelay: Infinity })
  let line = 0
  let batch: Array<Row> = []
  try {
    for await (const text of rl) {
      line++
      if (batch.length >= BATCH) {
        onProgress({ done: input.bytesRead, total })
        yield batch
        batch = []
      }
      if (text.trim() === "") continue
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch (e) {
        const message = (e as Error).message
        const at = /position (\d+)/.exec(message)
        batch.push({ ok: false, file, line, ...(at ? { column: Number(at[1]) + 1 } : {}), reason: `invalid JSON: ${message}` })
        continue
      }
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        batch.push({ ok: false, file, line, column: 1, reason: `expected a JSON object, found ${Array.isArray(value) ? "an array" : JSON.stringify(value)}` })
        continue
      }
      batch.push({ ok: true, file, line, values: value as Record<string, unknown> })
    }
    onProgress({ done: total, total })
    if (batch.length > 0) yield batch
  } finally {
    rl.close()
    input.destroy()
  }
}

/**
 * CSV or TSV with a header row, parsed by csv-parse. A record with the wrong number of fields or a
 * broken quote is reported with its line and the parser's reason, and parsing goes on after it.
 */
async function* delimitedRows(file: string, delimiter: string, onProgress: (p: ReadProgress) => void): AsyncGenerator<Array<Row>> {
  const total = fs.statSync(file).size
  const skipped: Array<Row> = []
  const input = fs.createReadStream(file, { highWaterMark: 1 << 20 })
  const parser = input.pipe(
    parseCsv({
      columns: true,
      delimiter,
      bom: true,
      info: true,
      skip_empty_lines: true,
      // TSV files (BEIR qrels, STS) are not quoted: a stray quote is text, not a field delimiter.
      quote: delimiter === "\t" ? false : '"',
      skip_records_with_error: true,
      on_skip: (err) => {
        if (!err) return undefined
        const line = typeof err.lines === "number" ? err.lines : 0
        const column = typeof err.column === "number" || typeof err.column === "string" ? err.column : undefined
        skipped.push({ ok: false, file, line, ...(column !== undefined ? { column } : {}), reason: err.message })
        return undefined
      }
    })
  )
  let batch: Array<Row> = []
  try {
    for await (const rec of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      // csv-parse reports a skipped record as soon as it parses it, which can be before the records above it are read.
      while (skipped.length > 0 && skipped[0]!.line < rec.info.lines) batch.push(skipped.shift()!)
      batch.push({ ok: true, file, line: rec.info.lines, values: rec.record })
      if (batch.length >= BATCH) {
        onProgress({ done: input.bytesRead, total })
        yield batch
        batch = []
      }
    }
    while (skipped.length > 0) batch.push(skipped.shift()!)
    onProgress({ done: total, total })
    if (batch.length > 0) yield batch
  } finally {
    input.destroy()
  }
}

/** Parquet, one row group at a time (hyparquet), so memory holds one group; `line` is the 1-based row number. */
async function* parquetRows(file: string, onProgress: (p: ReadProgress) => void): AsyncGenerator<Array<Row>> {
  const buffer = await asyncBufferFromFile(file)
  const metadata = await parquetMetadataAsync(buffer)
  const total = Number(metadata.num_rows)
  let rowStart = 0
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows)
    const rows = await parquetReadObjects({ file: buffer, metadata, rowStart, rowEnd })
    const start = rowStart
    rowStart = rowEnd
    onProgress({ done: rowStart, total })
    yield rows.map((values, i): Row => ({ ok: true, file, line: start + i + 1, values }))
  }
}

/** Rows of one file in the given format, in batches (file order). */
export const readRows = (file: string, format: FileFormat, onProgress: (p: ReadProgress) => void = () => {}): AsyncGenerator<Array<Row>> => {
  switch (format) {
    case "jsonl":
      return jsonlRows(file, onProgress)
    case "csv":
      return delimitedRows(file, ",", onProgress)
    case "tsv":
      return delimitedRows(file, "\t", onProgress)
    case "parquet":
      return parquetRows(file, onProgress)
  }
}
