import * as fs from "node:fs"
import * as path from "node:path"
import { Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { ArtifactStore, Graph, makeFileSystem, Plugin, Runner } from "@embedflow/core"
import { AgNews, DataFormatError, DataRoot, IrCollection, plugin, Snli, Sst2, StsB, Trec } from "../src/index.js"
import { failure, fixtureRoot } from "./helpers.js"

// Issue 13: empty, truncated or garbage-extended data files are errors naming the file (and line).
const dataRoot = Effect.runSync(DataRoot.resolve())
const real = (rel: string): Buffer => fs.readFileSync(path.join(dataRoot, rel))
const lineCount = (b: Buffer): number => b.toString("latin1").split(/\r\n|\n|\r/).length - (b.at(-1) === 0x0a ? 1 : 0)

/** Seeded bytes (LCG), so a failure reproduces. */
const randomBytes = (n: number, seed: number): Buffer => {
  const out = Buffer.alloc(n)
  let s = seed >>> 0
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    out[i] = s >>> 24
  }
  return out
}

/** A data root holding copies of the real files of `dir`, with some replaced or modified. */
const copyOf = (dir: string, files: ReadonlyArray<string>, edit: Record<string, (b: Buffer) => Buffer | string>): string => {
  const contents: Record<string, Buffer | string> = {}
  for (const f of files) contents[`${dir}/${f}`] = edit[f] ? edit[f](real(`${dir}/${f}`)) : real(`${dir}/${f}`)
  return fixtureRoot(contents)
}

const expectAt = (e: unknown, file: string, line: number, expected: RegExp, found?: RegExp) => {
  expect(e).toBeInstanceOf(DataFormatError)
  const f = e as DataFormatError
  expect(path.basename(f.file)).toBe(file)
  expect(f.line).toBe(line)
  expect(f.expected).toMatch(expected)
  if (found) expect(f.found).toMatch(found)
  expect(f.message).toContain(`${file}:${line}: expected`)
}

describe("empty data files are errors naming the file", () => {
  it("an empty sts-test.csv (0 bytes, or only blank lines) fails; allowEmpty accepts it", async () => {
    const empty = fixtureRoot({ "stsbenchmark/sts-test.csv": "" })
    expectAt(await failure(StsB.load("test", { root: empty })), "sts-test.csv", 1, /at least one sentence pair/, /empty file \(0 bytes\)/)
    const blank = fixtureRoot({ "stsbenchmark/sts-test.csv": "\n\n" })
    expectAt(await failure(StsB.load("test", { root: blank })), "sts-test.csv", 1, /at least one sentence pair/, /only blank lines/)
    expect(await Effect.runPromise(StsB.load("test", { root: empty, allowEmpty: true }))).toEqual([])
  })

  it("empty SNLI files fail naming them; a blank premise or hypothesis line is an error at its line", async () => {
    const empty = fixtureRoot({ "snli/s1.dev": "", "snli/s2.dev": "", "snli/labels.dev": "" })
    expectAt(await failure(Snli.load("dev", { root: empty })), "s1.dev", 1, /at least one sentence pair/, /0 lines in s1\.dev, s2\.dev, labels\.dev/)
    expect(await Effect.runPromise(Snli.load("dev", { root: empty, allowEmpty: true }))).toEqual([])
    const blank = fixtureRoot({ "snli/s1.test": "p1\n\n", "snli/s2.test": "h1\nh2\n", "snli/labels.test": "neutral\nentailment\n" })
    expectAt(await failure(Snli.load("test", { root: blank })), "s1.test", 2, /a premise sentence/, /blank line/)
    // One empty file among full ones: the length mismatch names the empty one.
    const one = copyOf("snli", ["s1.dev", "s2.dev", "labels.dev"], { "s2.dev": () => "" })
    expectAt(await failure(Snli.load("dev", { root: one })), "s2.dev", 1, /as many lines as/)
  })

  it("TREC, SST-2, AG News (header only) and the IR files with no record fail naming the file", async () => {
    const root = fixtureRoot({
      "trec/TREC_10.label": "",
      "sst2/sentiment-dev": "\n",
      "ag_news/test.csv": "label,title,description\r\n",
      "cranfield/cran.all.1400": "",
      "cranfield/cran.qry": ".I 001\n.W\nq\n",
      "cranfield/cranqrel": "",
      "cisi/CISI.QRY": ""
    })
    expectAt(await failure(Trec.load("test", { root })), "TREC_10.label", 1, /at least one question/)
    expectAt(await failure(Sst2.load("dev", { root })), "sentiment-dev", 1, /at least one labelled sentence/)
    expectAt(await failure(AgNews.load({ root })), "test.csv", 1, /at least one article/)
    expectAt(await failure(IrCollection.load("cranfield", { root })), "cran.all.1400", 1, /at least one document/)
    expectAt(await failure(Stream.runCollect(IrCollection.streamQrels("cranfield", { root }))), "cranqrel", 1, /at least one relevance judgment/)
  })
})

describe("truncated files and trailing garbage are errors at file:line", () => {
  it("random bytes appended to cran.all.1400 fail at the first garbage line instead of joining the last document", async () => {
    const original = real("cranfield/cran.all.1400")
    const root = copyOf("cranfield", ["cran.all.1400", "cran.qry", "cranqrel"], { "cran.all.1400": (b) => Buffer.concat([b, randomBytes(4096, 13)]) })
    expectAt(await failure(IrCollection.load("cranfield", { root })), "cran.all.1400", lineCount(original) + 1, /UTF-8 text|^text$/, /invalid UTF-8 byte|NUL byte/)
  })

  it("the same for CISI.ALL, cran.qry, CISI.QRY and the judgment files", async () => {
    for (const [dir, files, target] of [
      ["cisi", ["CISI.ALL", "CISI.QRY", "CISI.REL"], "CISI.ALL"],
      ["cisi", ["CISI.ALL", "CISI.QRY", "CISI.REL"], "CISI.QRY"],
      ["cisi", ["CISI.ALL", "CISI.QRY", "CISI.REL"], "CISI.REL"],
      ["cranfield", ["cran.all.1400", "cran.qry", "cranqrel"], "cran.qry"],
      ["cranfield", ["cran.all.1400", "cran.qry", "cranqrel"], "cranqrel"]
    ] as const) {
      const original = real(`${dir}/${target}`)
      const root = copyOf(dir, files, { [target]: (b: Buffer) => Buffer.concat([b, randomBytes(4096, 29)]) })
      const e = await failure(IrCollection.load(dir, { root }))
      // cranqrel has no final newline, so the garbage extends its last line.
      const line = original.at(-1) === 0x0a ? lineCount(original) + 1 : lineCount(original)
      expectAt(e, target, line, /./)
    }
  })

  it("ASCII text pasted after the last record (a repeated .I) fails at the repeated marker", async () => {
    const doc = ".I 1\n.T\nrepeated\n.A\nx\n.B\ny\n.W\nrepeated text\n"
    const original = real("cranfield/cran.all.1400")
    const root = copyOf("cranfield", ["cran.all.1400", "cran.qry", "cranqrel"], { "cran.all.1400": (b) => Buffer.concat([b, Buffer.from(doc)]) })
    expectAt(await failure(IrCollection.load("cranfield", { root })), "cran.all.1400", lineCount(original) + 1, /record id greater than the previous one \(\.I 1400/)
  })

  it("files cut mid-line or mid-record fail at the cut", async () => {
    const sts = real("stsbenchmark/sts-test.csv")
    const cutSts = fixtureRoot({ "stsbenchmark/sts-test.csv": sts.subarray(0, sts.lastIndexOf("\n", sts.length - 2) + 30) })
    expectAt(await failure(StsB.load("test", { root: cutSts })), "sts-test.csv", 1379, /7 tab-separated fields|score between 0 and 5/)
    const cran = real("cranfield/cran.all.1400")
    const lastW = cran.lastIndexOf(".W")
    const root = copyOf("cranfield", ["cran.all.1400", "cran.qry", "cranqrel"], { "cran.all.1400": (b) => b.subarray(0, lastW) })
    const e = await failure(IrCollection.load("cranfield", { root }))
    expect((e as DataFormatError).expected).toMatch(/a \.W field in document 1400/)
    const qrel = copyOf("cranfield", ["cran.all.1400", "cran.qry", "cranqrel"], { cranqrel: (b) => b.subarray(0, b.length - 3) })
    expectAt(await failure(IrCollection.load("cranfield", { root: qrel })), "cranqrel", lineCount(real("cranfield/cranqrel")), /'<query> <doc> <code>'/)
  })

  it("invalid UTF-8 inside a line names its line and byte; Latin-1 TREC rejects C1 control bytes", async () => {
    const root = fixtureRoot({
      "stsbenchmark/sts-dev.csv": Buffer.concat([
        Buffer.from("main-news\theadlines\t2013\t0001\t2.5\tA café.\tA man walks.\n"),
        Buffer.from("main-news\theadlines\t2013\t0002\t2.5\tA "),
        Buffer.from([0xc3, 0x28]),
        Buffer.from("\tb\n")
      ]),
      "trec/TREC_10.label": Buffer.concat([Buffer.from("NUM:dist How far \xad ?\nNUM:dist x", "latin1"), Buffer.from([0x85]), Buffer.from(" ?\n")])
    })
    expectAt(await failure(StsB.load("dev", { root })), "sts-dev.csv", 2, /UTF-8 text/, /invalid UTF-8 byte 0xC3 at byte 37/)
    expectAt(await failure(Trec.load("test", { root })), "TREC_10.label", 2, /Latin-1 text/, /control byte 0x85/)
  })
})

describe("the data stages fail at their own node, naming the file", () => {
  it("data/sts-b on an empty sts-test.csv: node 'sts' fails with <file>:1: expected at least one sentence pair", async () => {
    const root = fixtureRoot({ "stsbenchmark/sts-test.csv": "" })
    const store = fixtureRoot({})
    const graph = { name: "empty-sts", nodes: [{ id: "sts", stage: "data/sts-b", params: { split: "test", dataDir: root } }] }
    const run = Effect.gen(function* () {
      return yield* Runner.run(yield* Graph.validate(graph, new Plugin.Registry([plugin])))
    }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(store)))
    await expect(Effect.runPromise(run)).rejects.toThrow(/node 'sts'.*sts-test\.csv:1: expected at least one sentence pair, found an empty file \(0 bytes\)/s)
  })
})
