import { Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { AgNews, IrCollection, Snli, Sst2, StsB, Trec } from "../src/index.js"

// Counts as published (shared/data/README.md).
describe("loaders on the real files", () => {
  it("STS-B: 5749/1500/1379 pairs, license fields kept apart, quotes untouched", async () => {
    const [train, dev, test] = await Effect.runPromise(Effect.all([StsB.load("train"), StsB.load("dev"), StsB.load("test")]))
    expect([train.length, dev.length, test.length]).toEqual([5749, 1500, 1379])
    // 284 test rows carry two trailing source fields; they must not leak into the sentences.
    expect(test.filter((p) => p.sources).length).toBe(284)
    expect(test.every((p) => !p.sentence2.includes("\t") && p.score >= 0 && p.score <= 5)).toBe(true)
    const quoted = train.find((p) => p.sentence1 === 'A dog in a "superman" shirt sleeps on a blanket.')
    expect(quoted?.score).toBe(4)
    expect(dev[0]).toMatchObject({ id: "sts-dev-1", genre: "main-captions", score: 5, sentence1: "A man with a hard hat is dancing." })
  })

  it("SNLI: 9842/9824 pairs with three labels, triples grouped by premise", async () => {
    const [dev, test] = await Effect.runPromise(Effect.all([Snli.load("dev"), Snli.load("test")]))
    expect([dev.length, test.length]).toEqual([9842, 9824])
    expect(new Set(dev.map((p) => p.label))).toEqual(new Set(["entailment", "neutral", "contradiction"]))
    const triples = Snli.triples(dev)
    const byPremise = new Map<string, Set<string>>()
    for (const p of dev) byPremise.set(`${p.premise}\u0000${p.hypothesis}`, new Set([...(byPremise.get(`${p.premise}\u0000${p.hypothesis}`) ?? []), p.label]))
    // Every triple is consistent with the gold labels of its premise.
    for (const t of triples) {
      expect(byPremise.get(`${t.anchor}\u0000${t.positive}`)?.has("entailment")).toBe(true)
      expect(byPremise.get(`${t.anchor}\u0000${t.negative}`)?.has("contradiction")).toBe(true)
    }
    expect(triples.length).toBeGreaterThan(3000)
    expect(triples.length).toBeLessThanOrEqual(dev.filter((p) => p.label === "entailment").length)
  })

  it("TREC: 5452/500 questions, Latin-1 train file decoded", async () => {
    const [train, test] = await Effect.runPromise(Effect.all([Trec.load("train"), Trec.load("test")]))
    expect([train.length, test.length]).toEqual([5452, 500])
    expect(test[0]).toMatchObject({ coarse: "NUM", fine: "dist", text: "How far is it from Denver to Aspen ?" })
    expect(new Set(train.map((q) => q.coarse)).size).toBe(6)
    expect(train[65]!.text).toContain("sister\u00f0city")
  })

  it("SST-2: 67349/872/1821 sentences", async () => {
    const [train, dev, test] = await Effect.runPromise(Effect.all([Sst2.load("train"), Sst2.load("dev"), Sst2.load("test")]))
    expect([train.length, dev.length, test.length]).toEqual([67349, 872, 1821])
    expect(dev[0]).toMatchObject({ text: "it 's a charming and often affecting journey .", label: 1 })
  })

  it("AG News: 7600 articles, 1900 per class, quoted CSV with escaped quotes", async () => {
    const articles = await Effect.runPromise(AgNews.load())
    expect(articles.length).toBe(7600)
    for (const c of [1, 2, 3, 4]) expect(articles.filter((a) => a.label === c).length).toBe(1900)
    expect(articles[0]).toMatchObject({ label: 3, className: "Business", title: "Fears for T N pension after talks" })
    expect(articles.some((a) => a.description.includes('"'))).toBe(true)
  })

  it("Cranfield: 1400 docs, 225 queries renumbered 1..225, 1837 graded judgments", async () => {
    const c = await Effect.runPromise(IrCollection.load("cranfield"))
    expect([c.documents.length, c.queries.length, c.qrels.length]).toEqual([1400, 225, 1837])
    expect(c.queries[2]).toMatchObject({ id: "3", sourceId: "004" })
    expect(c.queries[224]).toMatchObject({ id: "225", sourceId: "365" })
    // Exactly one source document (code -1) per query: gain 0 by default, 5 when asked.
    const sources = c.qrels.filter((q) => q.code === -1)
    expect(new Set(sources.map((q) => q.queryId)).size).toBe(225)
    expect(sources.every((q) => q.relevance === 0)).toBe(true)
    const literal = await Effect.runPromise(IrCollection.load("cranfield", { cranfieldSource: "most-relevant" }))
    expect(literal.qrels.filter((q) => q.code === -1).every((q) => q.relevance === 5)).toBe(true)
    expect(c.qrels.filter((q) => q.code !== -1).map((q) => q.relevance).sort()).toEqual(
      c.qrels.filter((q) => q.code !== -1).map((q) => 5 - q.code!).sort()
    )
    expect(c.qrels.find((q) => q.queryId === "1" && q.docId === "184")).toEqual({ queryId: "1", docId: "184", relevance: 3, code: 2 })
    expect(c.documents[485]).toMatchObject({ id: "486", title: "similarity laws for aerothermoelastic testing .", authors: "dugundji,j." })
  })

  it("CISI: 1460 docs, 112 queries, 3114 binary judgments over 76 queries", async () => {
    const c = await Effect.runPromise(IrCollection.load("cisi"))
    expect([c.documents.length, c.queries.length, c.qrels.length]).toEqual([1460, 112, 3114])
    expect(new Set(c.qrels.map((q) => q.queryId)).size).toBe(76)
    expect(c.documents[0]).toMatchObject({ id: "1", title: "18 Editions of the Dewey Decimal Classifications", authors: "Comaromi, J.P." })
    expect(IrCollection.documentText(c.documents[0]!)).toMatch(/^18 Editions of the Dewey Decimal Classifications\nThe present study/)
    expect(Object.keys(IrCollection.qrelsByQuery(c.qrels)["1"]!).length).toBe(46)
  })

  it("streams emit the same records as the array loaders, lazily", async () => {
    const firstTwo = await Effect.runPromise(Stream.runCollect(Stream.take(Sst2.stream("train"), 2)))
    const all = await Effect.runPromise(Sst2.load("train"))
    expect(firstTwo).toEqual(all.slice(0, 2))
    const snli = await Effect.runPromise(Stream.runCollect(Stream.take(Snli.stream("test"), 3)))
    expect(snli.map((p) => p.id)).toEqual(["snli-test-1", "snli-test-2", "snli-test-3"])
    const docs = await Effect.runPromise(Stream.runCollect(IrCollection.streamDocuments("cranfield")))
    expect(docs.length).toBe(1400)
  })
})
