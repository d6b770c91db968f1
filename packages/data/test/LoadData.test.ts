import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { parquetWriteFile } from "hyparquet-writer"
import { describe, expect, it } from "vitest"
import { loadBeir } from "../src/Beir.js"
import { DataFileError, DataRowError, load, type LoadOptions, splitOf } from "../src/LoadData.js"
import { failure } from "./helpers.js"

const fixtures = fileURLToPath(new URL("./fixtures/user/", import.meta.url))
const f = (name: string) => path.join(fixtures, name)
const run = (file: string, options: LoadOptions) => Effect.runPromise(load(file, options))

describe("load: formats and default columns", () => {
  it("FlagEmbedding JSONL (query, pos list, neg list) -> one triple per (positive, negative)", async () => {
    const { records, report } = await run(f("flag.jsonl"), { shape: "triples" })
    expect(records).toEqual([
      { anchor: "what is a cat", positive: "a cat is a small feline", negative: "dogs bark" },
      { anchor: "what is a cat", positive: "a cat is a small feline", negative: "the sky is blue" },
      { anchor: "capital of france", positive: "paris is the capital of france", negative: "berlin is in germany" },
      { anchor: "capital of france", positive: "paris, france", negative: "berlin is in germany" }
    ])
    expect(report.rows).toBe(2)
    expect(report.files[0]!.columns).toEqual({ anchor: "query", positive: "pos", negative: "neg" })
  })

  it("the same file as pairs drops the negatives", async () => {
    const { records } = await run(f("flag.jsonl"), { shape: "pairs" })
    expect(records.map((r) => [r.anchor, r.positive])).toEqual([
      ["what is a cat", "a cat is a small feline"],
      ["capital of france", "paris is the capital of france"],
      ["capital of france", "paris, france"]
    ])
    expect(records.every((r) => !("negative" in r))).toBe(true)
  })

  it("sentence-transformers CSV (anchor, positive, negative) with quoted commas", async () => {
    const { records } = await run(f("st-triples.csv"), { shape: "triples" })
    expect(records[0]).toEqual({ anchor: "a man, smiling", positive: "a person is happy", negative: "a woman is crying" })
    expect(records).toHaveLength(2)
  })

  it("negative_1..n columns in numeric order, nulls left out", async () => {
    const { records } = await run(f("st-hardneg.jsonl"), { shape: "triples" })
    expect(records.map((r) => r.negative)).toEqual(["n1a", "n1b", "n2a", "n2b"])
  })

  it("TSV scored pairs keep quotes as text and get generated ids", async () => {
    const { records, report } = await run(f("sts.tsv"), { shape: "scored-pairs", idPrefix: "sts-" })
    expect(records).toEqual([
      { id: "sts-0", a: "A plane is taking off.", b: "An air plane is taking off.", score: 5 },
      { id: "sts-1", a: 'A man plays a "flute".', b: "A man plays a flute.", score: 3.8 }
    ])
    expect(report.generatedIds).toBe(true)
  })

  it("labelled examples: numeric labels become text", async () => {
    const { records } = await run(f("labelled.jsonl"), { shape: "labelled" })
    expect(records.map((r) => r.label)).toEqual(["1", "0", "positive"])
  })

  it("candidates without a rank are ranked by score within each query", async () => {
    const { records } = await run(f("candidates.tsv"), { shape: "candidates" })
    expect(records.map((r) => [r.queryId, r.docId, r.rank])).toEqual([
      ["q1", "d1", 1],
      ["q1", "d2", 3],
      ["q1", "d3", 2],
      ["q2", "d1", 1]
    ])
  })

  it("a user column mapping overrides the defaults", async () => {
    const { records } = await run(f("malformed/wrong-columns.jsonl"), { shape: "pairs", columns: { anchor: "question", positive: "answer_text" } })
    expect(records).toEqual([{ anchor: "q", positive: "a" }])
  })

  it("limit stops reading; sample is seeded, uniform-sized and keeps file order", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "embedflow-load-"))
    const file = path.join(dir, "many.jsonl")
    fs.writeFileSync(file, Array.from({ length: 5000 }, (_, i) => JSON.stringify({ id: `r${i}`, text: `row ${i}` })).join("\n"))
    const limited = await run(file, { shape: "texts", limit: 10 })
    expect(limited.records.map((r) => r.id)).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`))
    expect(limited.report.limitReached).toBe(true)
    const a = await run(file, { shape: "texts", sample: 100, seed: 7 })
    const b = await run(file, { shape: "texts", sample: 100, seed: 7 })
    const c = await run(file, { shape: "texts", sample: 100, seed: 8 })
    expect(a.records).toEqual(b.records)
    expect(a.records).not.toEqual(c.records)
    const idx = a.records.map((r) => Number((r.id as string).slice(1)))
    expect(idx).toHaveLength(100)
    expect([...idx].sort((x, y) => x - y)).toEqual(idx)
    // Drawn from the whole file, not its head: the mean index is near the middle (sd of the mean ~144).
    const mean = idx.reduce((s, x) => s + x, 0) / idx.length
    expect(Math.abs(mean - 2500)).toBeLessThan(600)
    expect(a.report.sample).toEqual({ size: 100, from: 5000, seed: 7 })
  })
})

describe("load: Parquet and Hugging Face folders", () => {
  const hfFolder = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "embedflow-hf-"))
    fs.mkdirSync(path.join(dir, "data"))
    const shard = (name: string, texts: Array<string>, labels: Array<number>, rowGroupSize: number) =>
      parquetWriteFile({
        filename: path.join(dir, "data", name),
        columnData: [
          { name: "text", data: texts, type: "STRING" },
          { name: "label", data: Int32Array.from(labels), type: "INT32" }
        ],
        rowGroupSize
      })
    shard("train-00000-of-00002.parquet", ["a", "b", "c", "d", "e"], [0, 1, 0, 1, 0], 2)
    shard("train-00001-of-00002.parquet", ["f", "g"], [1, 1], 10)
    shard("test-00000-of-00001.parquet", ["x", "y"], [0, 1], 10)
    return dir
  }

  it("reads the split's shards in order, across row groups", async () => {
    const dir = hfFolder()
    const { records, report } = await run(dir, { shape: "labelled", split: "train" })
    expect(records.map((r) => `${r.text}:${r.label}`)).toEqual(["a:0", "b:1", "c:0", "d:1", "e:0", "f:1", "g:1"])
    expect(report.files.map((x) => [path.basename(x.file), x.format, x.rows])).toEqual([
      ["train-00000-of-00002.parquet", "parquet", 5],
      ["train-00001-of-00002.parquet", "parquet", 2]
    ])
    expect((await run(dir, { shape: "labelled", split: "test" })).records.map((r) => r.text)).toEqual(["x", "y"])
  })

  it("a folder of several splits needs `split`, and an absent split names those found", async () => {
    const dir = hfFolder()
    expect((await failure(load(dir, { shape: "labelled" }))).message).toMatch(/several splits \(test, train\)|several splits \(train, test\)/)
    expect((await failure(load(dir, { shape: "labelled", split: "validation" }))).message).toMatch(/no files of split 'validation'/)
  })

  it("a save_to_disk folder (Arrow files + metadata JSON) asks for Parquet instead of reading the metadata as rows", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "embedflow-hf-arrow-"))
    fs.mkdirSync(path.join(dir, "train"))
    fs.writeFileSync(path.join(dir, "dataset_dict.json"), '{"splits": ["train"]}')
    fs.writeFileSync(path.join(dir, "train", "data-00000-of-00001.arrow"), "")
    fs.writeFileSync(path.join(dir, "train", "dataset_info.json"), "{}")
    fs.writeFileSync(path.join(dir, "train", "state.json"), "{}")
    expect((await failure(load(dir, { shape: "texts" }))).message).toMatch(/Arrow files \(datasets' save_to_disk\).*to_parquet/)
  })

  it("split names from hub and save layouts", () => {
    expect(splitOf("data/train-00000-of-00002.parquet")).toBe("train")
    expect(splitOf("plain_text/validation/0000.parquet")).toBe("validation")
    expect(splitOf("test.jsonl")).toBe("test")
    expect(splitOf("corpus.jsonl")).toBeUndefined()
  })
})

describe("load: BEIR folders", () => {
  it("corpus with titles, judged queries only, graded qrels", async () => {
    const c = await Effect.runPromise(loadBeir(f("beir"), "test"))
    expect(c.documents).toEqual([
      { id: "d1", text: "Cats Cats are small felines." },
      { id: "d2", text: "Paris is the capital of France." },
      { id: "d3", text: "Dogs Dogs bark." }
    ])
    expect(c.queries.map((q) => q.id)).toEqual(["q1", "q2"])
    expect(c.qrels).toEqual([
      { queryId: "q1", docId: "d1", relevance: 1 },
      { queryId: "q2", docId: "d2", relevance: 2 }
    ])
    expect((await Effect.runPromise(loadBeir(f("beir"), "dev"))).queries.map((q) => q.id)).toEqual(["q1"])
  })

  it("a missing split lists the splits present", async () => {
    expect((await failure(loadBeir(f("beir"), "train"))).message).toMatch(/no qrels\/train\.tsv \(splits found: dev, test\)/)
  })
})

describe("load: bad input", () => {
  it("fails on the first malformed row with file:line:column", async () => {
    const e = await failure(load(f("malformed/bad-json.jsonl"), { shape: "labelled" }))
    expect(e).toBeInstanceOf(DataRowError)
    expect(e.message).toMatch(/bad-json\.jsonl:2:\d+: invalid JSON/)
  })

  it("onError: skip counts the skipped rows and lists each with its reason", async () => {
    const { records, report } = await run(f("malformed/bad-json.jsonl"), { shape: "labelled", onError: "skip" })
    expect(records.map((r) => r.text)).toEqual(["ok one", "ok two", "ok three"])
    expect(report.skipped).toBe(4)
    expect(report.skippedRows.map((r) => [r.line, r.column, r.reason.split(":")[0]])).toEqual([
      [2, expect.any(Number), "invalid JSON"],
      [4, 1, "expected a JSON object, found an array"],
      [5, "text", "expected a non-empty text, found an empty one"],
      [6, "label", "missing in this row"]
    ])
  })

  it("CSV: a non-numeric score and a row with an extra field, by line", async () => {
    const e = await failure(load(f("malformed/bad-rows.csv"), { shape: "scored-pairs" }))
    expect(e.message).toMatch(/bad-rows\.csv:3 \(column 'score'\): expected a number, found "not-a-number"/)
    const { records, report } = await run(f("malformed/bad-rows.csv"), { shape: "scored-pairs", onError: "skip" })
    expect(records.map((r) => r.score)).toEqual([1.5, 3])
    expect(report.skippedRows.map((r) => r.line).sort()).toEqual([3, 4])
    expect(report.skippedRows.find((r) => r.line === 4)!.reason).toMatch(/record length|columns/i)
  })

  it("more than 20 bad rows: all counted, the first 20 listed", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "embedflow-load-"))
    const file = path.join(dir, "bad.jsonl")
    fs.writeFileSync(file, Array.from({ length: 50 }, (_, i) => (i % 2 ? `{"text": "t${i}"}` : "{oops")).join("\n"))
    const { records, report } = await run(file, { shape: "texts", onError: "skip" })
    expect(records).toHaveLength(25)
    expect(report.skipped).toBe(25)
    expect(report.skippedRows).toHaveLength(20)
    expect(report.skippedRows[19]!.line).toBe(39)
  })

  it("duplicate ids name both lines", async () => {
    const e = await failure(load(f("malformed/dup-ids.jsonl"), { shape: "texts" }))
    expect(e.message).toMatch(/dup-ids\.jsonl:3 \(column 'id'\): duplicate id "1" \(first at .*dup-ids\.jsonl:1\)/)
  })

  it("missing columns list the columns found", async () => {
    const e = await failure(load(f("malformed/wrong-columns.jsonl"), { shape: "labelled" }))
    expect(e).toBeInstanceOf(DataFileError)
    expect(e.message).toMatch(/no column for 'label' \(tried 'label', 'labels', 'class', 'category', 'label_text'\); columns found: 'question', 'answer_text'/)
  })

  it("empty files and header-only CSVs are errors", async () => {
    expect((await failure(load(f("malformed/empty.jsonl"), { shape: "texts" }))).message).toMatch(/empty\.jsonl: is empty/)
    expect((await failure(load(f("malformed/header-only.csv"), { shape: "texts" }))).message).toMatch(/header-only\.csv: is empty/)
  })

  it("a missing file is a read error naming it; an unknown extension asks for `format`", async () => {
    expect((await failure(load(f("nope.jsonl"), { shape: "texts" }))).message).toMatch(/cannot read .*nope\.jsonl/)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "embedflow-load-"))
    fs.writeFileSync(path.join(dir, "data.txt"), '{"text": "a"}\n')
    expect((await failure(load(path.join(dir, "data.txt"), { shape: "texts" }))).message).toMatch(/unknown format/)
    expect((await run(path.join(dir, "data.txt"), { shape: "texts", format: "jsonl" })).records).toEqual([{ id: "0", text: "a" }])
  })

  it("sample without seed is refused", async () => {
    expect((await failure(load(f("texts.csv"), { shape: "texts", sample: 1 }))).message).toMatch(/`sample` needs a `seed`/)
  })
})
