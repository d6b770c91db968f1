import { writeFileAtomic as writeFileAtomicAsync } from "@embedflow/core"
import { Effect, Schema } from "effect"
import { EvalError } from "./EvalError.js"

/** A table of results: one row per system/dataset, one column per metric. */
export const Cell = Schema.Union([Schema.String, Schema.Number, Schema.Null])
export type Cell = typeof Cell.Type
export const ResultTable = Schema.Struct({
  title: Schema.String,
  columns: Schema.Array(Schema.String),
  rows: Schema.Array(Schema.Record(Schema.String, Cell)),
  notes: Schema.optionalKey(Schema.Array(Schema.String))
})
export type ResultTable = typeof ResultTable.Type

export interface MarkdownOptions {
  /** Digits after the point for numbers (default 4). */
  readonly digits?: number
  /** Columns holding fractions to show ×100 (e.g. spearman 0.8123 -> 81.23), the convention of papers. */
  readonly percent?: ReadonlyArray<string>
}

const escapeCell = (s: string): string => s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ")

export const toMarkdown = (table: ResultTable, options: MarkdownOptions = {}): string => {
  const digits = options.digits ?? 4
  const percent = new Set(options.percent ?? [])
  const show = (col: string, v: Cell | undefined): string => {
    if (v === null || v === undefined) return ""
    if (typeof v === "number") {
      if (Number.isInteger(v) && !percent.has(col)) return String(v)
      return (percent.has(col) ? v * 100 : v).toFixed(percent.has(col) ? Math.max(0, digits - 2) : digits)
    }
    return escapeCell(v)
  }
  const lines = [
    `## ${escapeCell(table.title)}`,
    "",
    `| ${table.columns.map(escapeCell).join(" | ")} |`,
    `| ${table.columns.map((c) => (table.rows.some((r) => typeof r[c] === "number") ? "---:" : "---")).join(" | ")} |`,
    ...table.rows.map((r) => `| ${table.columns.map((c) => show(c, r[c])).join(" | ")} |`)
  ]
  if (table.notes && table.notes.length > 0) lines.push("", ...table.notes.map((n) => `- ${n}`))
  return lines.join("\n") + "\n"
}

export const toJson = (table: ResultTable): string => JSON.stringify(Schema.encodeSync(ResultTable)(table), null, 2) + "\n"

/** Writes so readers see the old file or the whole new one: temp sibling, fsync, rename. */
export const writeFileAtomic = (target: string, content: string): Effect.Effect<void, EvalError> =>
  Effect.tryPromise({
    try: () => writeFileAtomicAsync(target, content),
    catch: (cause) => new EvalError({ message: `cannot write report ${target}: ${cause instanceof Error ? cause.message : String(cause)}`, cause })
  })

/** Writes the table as Markdown and/or JSON, each atomically. */
export const writeReport = (
  table: ResultTable,
  targets: { readonly markdown?: string; readonly json?: string },
  options: MarkdownOptions = {}
): Effect.Effect<void, EvalError> =>
  Effect.all(
    [
      ...(targets.markdown ? [writeFileAtomic(targets.markdown, toMarkdown(table, options))] : []),
      ...(targets.json ? [writeFileAtomic(targets.json, toJson(table))] : [])
    ],
    { discard: true }
  )
