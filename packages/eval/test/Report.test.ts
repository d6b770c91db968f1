import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { EvalError, Report } from "../src/index.js"

const table: Report.ResultTable = {
  title: "STS-B test",
  columns: ["model", "spearman", "pairs"],
  rows: [
    { model: "glove-avg", spearman: 0.41923, pairs: 1379 },
    { model: "sif | pc1", spearman: 0.6091, pairs: null }
  ],
  notes: ["cosine similarity"]
}

describe("report writers", () => {
  it("Markdown with percent columns, escaping and right-aligned numbers", () => {
    expect(Report.toMarkdown(table, { percent: ["spearman"] })).toBe(
      [
        "## STS-B test",
        "",
        "| model | spearman | pairs |",
        "| --- | ---: | ---: |",
        "| glove-avg | 41.92 | 1379 |",
        "| sif \\| pc1 | 60.91 |  |",
        "",
        "- cosine similarity",
        ""
      ].join("\n")
    )
  })

  it("writes Markdown and JSON atomically; JSON round-trips through the schema", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "embedflow-report-"))
    const md = path.join(dir, "out", "report.md")
    const json = path.join(dir, "out", "report.json")
    await Effect.runPromise(Report.writeReport(table, { markdown: md, json }))
    expect(fs.readFileSync(md, "utf8")).toBe(Report.toMarkdown(table))
    expect(Schema.decodeUnknownSync(Report.ResultTable)(JSON.parse(fs.readFileSync(json, "utf8")))).toEqual(table)
    expect(fs.readdirSync(path.join(dir, "out")).sort()).toEqual(["report.json", "report.md"])
  })

  it("a failed write leaves the target as it was and no temp file behind", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "embedflow-report-"))
    const target = path.join(dir, "report.md")
    fs.mkdirSync(target) // rename onto a directory fails
    fs.writeFileSync(path.join(target, "keep"), "x")
    const e = await Effect.runPromise(Effect.flip(Report.writeFileAtomic(target, "new")))
    expect(e).toBeInstanceOf(EvalError)
    expect(e.message).toContain(target)
    expect(fs.readdirSync(dir)).toEqual(["report.md"])
    expect(fs.readFileSync(path.join(target, "keep"), "utf8")).toBe("x")
  })
})
