import { describe, expect, it } from "vitest"
import { Bm25, Tokenizer } from "../src/index.js"

const corpus = [
  { id: "d1", text: "the cat sat on the mat" },
  { id: "d2", text: "the dog sat" },
  { id: "d3", text: "cats and dogs" },
  { id: "d4", text: "the cat the cat" }
]

/** Float64 BM25 straight from the definition, scoring every document: the reference. */
const reference = (docs: ReadonlyArray<ReadonlyArray<string>>, query: ReadonlyArray<string>, k1: number, b: number): Array<number> => {
  const N = docs.length
  const avgdl = docs.reduce((s, d) => s + d.length, 0) / N
  return docs.map((d) => {
    let s = 0
    for (const q of query) {
      const df = docs.filter((x) => x.includes(q)).length
      if (df === 0) continue
      const tf = d.filter((t) => t === q).length
      const idf = Math.log(1 + (N - df + 0.5) / (df + 0.5))
      s += (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * d.length) / avgdl))
    }
    return s
  })
}

describe("BM25", () => {
  it("hand-computed scores on a 4-document corpus (k1 = 1.2, b = 0.75)", () => {
    const index = Bm25.build(corpus)
    // N = 4, avgdl = 16/4 = 4; df(cat) = df(sat) = 2 -> idf = ln(1 + 2.5/2.5) = ln 2.
    // d1 (|d| = 6): each term ln2 * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 1.5)) = ln2 * 2.2 / 2.65
    // d4 (|d| = 4, tf(cat) = 2): ln2 * 2 * 2.2 / (2 + 1.2); d2 (|d| = 3): ln2 * 2.2 / (1 + 0.975)
    const hits = index.search("cat sat", 10)
    expect(hits.map((h) => h.id)).toEqual(["d1", "d4", "d2"])
    expect(hits[0]!.score).toBeCloseTo((2 * Math.LN2 * 2.2) / 2.65, 6)
    expect(hits[1]!.score).toBeCloseTo((Math.LN2 * 4.4) / 3.2, 6)
    expect(hits[2]!.score).toBeCloseTo((Math.LN2 * 2.2) / 1.975, 6)
    expect(index.idf("cat")).toBeCloseTo(Math.LN2, 12)
    // "cats" is a different term without stemming; the S-stemmer folds it.
    expect(index.search("cats", 10).map((h) => h.id)).toEqual(["d3"])
    const stemmed = Bm25.build(corpus, { tokenizer: { stem: true } })
    expect(stemmed.search("cats", 10).map((h) => h.id)).toEqual(["d4", "d3", "d1"])
  })

  it("repeated query terms count per occurrence; k1 and b are honoured", () => {
    const index = Bm25.build(corpus, { k1: 2, b: 0.3 })
    const docs = corpus.map((d) => Tokenizer.make().tokenize(d.text))
    const ref = reference(docs, ["cat", "cat", "dog", "the"], 2, 0.3)
    const got = index.scoreAll("cat cat dog the")
    ref.forEach((r, i) => expect(got[i]).toBeCloseTo(r, 6))
  })

  it("matches the float64 reference and a full sort on a seeded random corpus", () => {
    let s = 7
    const rand = () => (s = (s * 48271) % 2147483647) / 2147483647
    const words = Array.from({ length: 60 }, (_, i) => `w${i}`)
    const pick = () => words[Math.floor(words.length * rand() ** 2)]!
    const texts = Array.from({ length: 300 }, () => Array.from({ length: 3 + Math.floor(rand() * 30) }, pick))
    const index = Bm25.build(texts.map((t, i) => ({ id: `doc${i}`, text: t.join(" ") })), { k1: 0.9, b: 0.4 })
    for (let q = 0; q < 20; q++) {
      const query = Array.from({ length: 1 + Math.floor(rand() * 5) }, pick)
      const ref = reference(texts, query, 0.9, 0.4)
      const all = index.scoreAll(query)
      ref.forEach((r, i) => expect(Math.abs(all[i]! - r)).toBeLessThan(1e-5 * Math.max(1, r)))
      const expected = ref.map((score, i) => ({ i, score })).filter((x) => x.score > 0).sort((a, b) => b.score - a.score || a.i - b.i).slice(0, 10)
      const hits = index.search(query, 10)
      expect(hits.map((h) => h.score)).toEqual(expected.map((e) => expect.closeTo(e.score, 4)))
      // Same documents up to float32 rounding of near-ties.
      expect(new Set(hits.map((h) => h.index)).size).toBe(hits.length)
    }
  })

  it("exclusion, hard negatives, batch search, edge cases", () => {
    const index = Bm25.build(corpus)
    expect(index.search("cat sat", 2, { exclude: new Set([0]) }).map((h) => h.id)).toEqual(["d4", "d2"])
    expect(index.hardNegatives("cat sat", ["d1"], 5).map((h) => h.id)).toEqual(["d4", "d2"])
    expect(index.hardNegatives("cat sat", ["d1"], 1, { skip: 1 }).map((h) => h.id)).toEqual(["d2"])
    expect(index.searchBatch(["dog", "unknown words"], 3).map((r) => r.map((h) => h.id))).toEqual([["d2"], []])
    expect(index.search("cat", 0)).toEqual([])
    expect(() => index.search("cat", -1)).toThrow(/non-negative integer/)
    expect(() => Bm25.build([{ id: "a", text: "x" }, { id: "a", text: "y" }])).toThrow(/'a' appears twice/)
    expect(() => Bm25.build(corpus, { b: 1.5 })).toThrow(/b must be in \[0, 1\]/)
    // Postings are CSR typed arrays; every list sorted by document.
    expect(index.postingDocs).toBeInstanceOf(Uint32Array)
    expect(index.offsets[index.offsets.length - 1]).toBe(index.postingDocs.length)
  })
})
