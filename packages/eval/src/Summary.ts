import type { ResultTable } from "./Report.js"

/** The fields of an eval report that a summary table reads (eval/sts and eval/retrieval write them). */
export interface EvalReport {
  readonly task: string
  readonly title: string
  /** Row label: the system evaluated (e.g. "BM25", "GloVe mean"). Defaults to the title. */
  readonly method?: string | undefined
  /** Column group: the data set (e.g. "STS-B test", "Cranfield"). Defaults to the title. */
  readonly dataset?: string | undefined
  readonly spearman?: number | undefined
  readonly pearson?: number | undefined
  readonly metrics?: Readonly<Record<string, number>> | undefined
}

const metricsOf = (r: EvalReport): Record<string, number> => ({
  ...(r.spearman !== undefined ? { spearman: r.spearman } : {}),
  ...(r.pearson !== undefined ? { pearson: r.pearson } : {}),
  ...(r.metrics ?? {})
})

/**
 * Pivots many eval reports into one table: a row per method (in first-seen order), a column per
 * data set and metric (`Cranfield ndcg_at_10`), keeping only the metrics asked for that a report has.
 */
export const summarize = (
  reports: ReadonlyArray<EvalReport>,
  options: { readonly title: string; readonly metrics: ReadonlyArray<string>; readonly notes?: ReadonlyArray<string> }
): ResultTable => {
  const columns: Array<string> = []
  const rows = new Map<string, Record<string, string | number | null>>()
  for (const report of reports) {
    const method = report.method ?? report.title
    const dataset = report.dataset ?? report.title
    const row = rows.get(method) ?? { method }
    rows.set(method, row)
    const values = metricsOf(report)
    for (const metric of options.metrics) {
      if (values[metric] === undefined) continue
      const column = `${dataset} ${metric}`
      if (!columns.includes(column)) columns.push(column)
      row[column] = values[metric]!
    }
  }
  return {
    title: options.title,
    columns: ["method", ...columns],
    rows: [...rows.values()].map((r) => Object.fromEntries(["method", ...columns].map((c) => [c, r[c] ?? null]))),
    ...(options.notes && options.notes.length > 0 ? { notes: [...options.notes] } : {})
  }
}
