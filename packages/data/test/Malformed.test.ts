import { Effect } from "effect"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { AgNews, DataFormatError, DataReadError, DataRoot, IrCollection, Snli, Sst2, StsB, Trec } from "../src/index.js"
import { failure, fixtureRoot } from "./helpers.js"

const expectFormat = (e: unknown, file: string, line: number, expected: RegExp) => {
  expect(e).toBeInstanceOf(DataFormatError)
  const f = e as DataFormatError
  expect(path.basename(f.file)).toBe(file)
  expect(f.line).toBe(line)
  expect(f.expected).toMatch(expected)
  expect(f.message).toContain(`${file}:${line}: expected`)
}

describe("malformed rows fail with file, line and what was expected", () => {
  it("STS-B: too few fields, score out of range", async () => {
    const good = "main-news\theadlines\t2013\t0001\t2.5\tA man runs.\tA man walks.\n"
    const root = fixtureRoot({
      "stsbenchmark/sts-dev.csv": good + "main-news\theadlines\t2013\t0002\t3.0\tonly one sentence\n",
      "stsbenchmark/sts-test.csv": good + good + "main-news\theadlines\t2013\t0003\t5.5\ta\tb\n"
    })
    expectFormat(await failure(StsB.load("dev", { root })), "sts-dev.csv", 2, /7 tab-separated fields/)
    expectFormat(await failure(StsB.load("test", { root })), "sts-test.csv", 3, /score between 0 and 5/)
  })

  it("SNLI: a bad label, and files of different lengths", async () => {
    const root = fixtureRoot({
      "snli/s1.dev": "p1\np2\n",
      "snli/s2.dev": "h1\nh2\n",
      "snli/labels.dev": "entailment\nmaybe\n",
      "snli/s1.test": "p1\np2\np3\n",
      "snli/s2.test": "h1\nh2\n",
      "snli/labels.test": "entailment\nneutral\ncontradiction\n"
    })
    expectFormat(await failure(Snli.load("dev", { root })), "labels.dev", 2, /entailment, neutral or contradiction/)
    expectFormat(await failure(Snli.load("test", { root })), "s2.test", 3, /as many lines as/)
  })

  it("TREC and SST-2: a line without the label layout", async () => {
    const root = fixtureRoot({
      "trec/TREC_10.label": "NUM:dist How far ?\nWhat is this ?\n",
      "sst2/sentiment-dev": "good film\t1\nbad film\t2\n"
    })
    expectFormat(await failure(Trec.load("test", { root })), "TREC_10.label", 2, /COARSE:fine question/)
    expectFormat(await failure(Sst2.load("dev", { root })), "sentiment-dev", 2, /label 0 or 1/)
  })

  it("AG News: class out of range, unclosed quote, stray quote", async () => {
    const header = "label,title,description\r\n"
    const a = fixtureRoot({ "ag_news/test.csv": header + '1,"T","D ""quoted"" here"\r\n5,T,D\r\n' })
    expectFormat(await failure(AgNews.load({ root: a })), "test.csv", 3, /class 1-4/)
    const b = fixtureRoot({ "ag_news/test.csv": header + '2,T,"open\r\nstill open\r\n' })
    expectFormat(await failure(AgNews.load({ root: b })), "test.csv", 2, /closing quote/)
    const c = fixtureRoot({ "ag_news/test.csv": header + '2,T,a "b" c\r\n' })
    expectFormat(await failure(AgNews.load({ root: c })), "test.csv", 2, /RFC 4180/)
    // A quoted field spanning lines is one record, reported at its first line.
    const d = fixtureRoot({ "ag_news/test.csv": header + '2,T,"two\r\nlines"\r\n4,U,V\r\n' })
    const ok = await Effect.runPromise(AgNews.load({ root: d }))
    expect(ok.map((x) => [x.id, x.description])).toEqual([["agnews-test-2", "two\nlines"], ["agnews-test-4", "V"]])
  })

  it("Cranfield: a document without .W, an unknown marker, a bad relevance code, an unknown query id", async () => {
    const docs = ".I 1\n.T\ntitle one\n.A\nx\n.B\ny\n.W\nbody one\n"
    const qry = ".I 001\n.W\nwhat about one .\n"
    const base = { "cranfield/cran.all.1400": docs, "cranfield/cran.qry": qry, "cranfield/cranqrel": "1 1 2\r\n" }
    const ok = await Effect.runPromise(IrCollection.load("cranfield", { root: fixtureRoot(base) }))
    expect(ok.qrels).toEqual([{ queryId: "1", docId: "1", relevance: 3, code: 2 }])
    const noW = fixtureRoot({ ...base, "cranfield/cran.all.1400": docs + ".I 2\n.T\ntitle two\n" })
    expectFormat(await failure(IrCollection.load("cranfield", { root: noW })), "cran.all.1400", 10, /\.W field in document 2/)
    const marker = fixtureRoot({ ...base, "cranfield/cran.qry": qry + ".I 002\n.Q\nx\n" })
    expectFormat(await failure(IrCollection.load("cranfield", { root: marker })), "cran.qry", 5, /field marker among \.I \.W/)
    const code = fixtureRoot({ ...base, "cranfield/cranqrel": "1 1 2\n1 1 5\n" })
    expectFormat(await failure(IrCollection.load("cranfield", { root: code })), "cranqrel", 2, /code -1, 1, 2, 3 or 4/)
    const unknown = fixtureRoot({ ...base, "cranfield/cranqrel": "1 1 2\n\n2 1 3\n" })
    expectFormat(await failure(IrCollection.load("cranfield", { root: unknown })), "cranqrel", 3, /query id in 1\.\.1/)
    const before = fixtureRoot({ ...base, "cranfield/cran.all.1400": "stray text\n" + docs })
    expectFormat(await failure(IrCollection.load("cranfield", { root: before })), "cran.all.1400", 1, /\.I <number>/)
  })

  it("a missing file is a DataReadError naming it", async () => {
    const e = await failure(StsB.load("train", { root: fixtureRoot({}) }))
    expect(e).toBeInstanceOf(DataReadError)
    expect((e as DataReadError).message).toMatch(/sts-train\.csv/)
  })
})

describe("DataRoot.resolve", () => {
  it("prefers EMBEDFLOW_DATA, then the nearest shared/data above cwd, else explains", async () => {
    const root = fixtureRoot({ "shared/data/README.md": "x", "a/b/c/.keep": "" })
    const env = {}
    expect(await Effect.runPromise(DataRoot.resolve({ cwd: path.join(root, "a/b/c"), env }))).toBe(path.join(root, "shared/data"))
    expect(await Effect.runPromise(DataRoot.resolve({ cwd: "/", env: { EMBEDFLOW_DATA: path.join(root, "a") } }))).toBe(path.join(root, "a"))
    const missing = await failure(DataRoot.resolve({ cwd: path.join(root, "a"), env: { EMBEDFLOW_DATA: path.join(root, "nope") } }))
    expect(missing.message).toMatch(/EMBEDFLOW_DATA=.*nope is not a directory/)
    const none = await failure(DataRoot.resolve({ cwd: "/", env }))
    expect(none.message).toMatch(/set EMBEDFLOW_DATA/)
  })
})
