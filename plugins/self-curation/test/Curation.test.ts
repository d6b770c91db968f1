import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { applyThresholds, curate, digitTokenIds, expectedRating, RatingPrompt } from "../src/index.js"
import { sameLengthBatches } from "../src/Curation.js"

describe("expectedRating", () => {
  it("is the mean digit under the softmax renormalised over the six digit tokens", () => {
    const logits = new Float32Array(20).fill(9) // non-digit tokens are large: they must not count
    const ids = [3, 5, 7, 11, 13, 17]
    const l = [0.5, -1, 2, 0, 1.5, -3]
    ids.forEach((id, d) => (logits[id] = l[d]!))
    const e = l.map(Math.exp)
    const z = e.reduce((a, b) => a + b, 0)
    const reference = e.reduce((s, p, d) => s + (d * p) / z, 0)
    expect(expectedRating(logits, 0, ids)).toBeCloseTo(reference, 12)
  })

  it("reads the row at the offset and is 0..5 at the extremes", () => {
    const vocab = 6
    const rows = new Float32Array(2 * vocab)
    rows.set([50, 0, 0, 0, 0, 0], 0)
    rows.set([0, 0, 0, 0, 0, 50], vocab)
    const ids = [0, 1, 2, 3, 4, 5]
    expect(expectedRating(rows, 0, ids)).toBeCloseTo(0, 12)
    expect(expectedRating(rows, vocab, ids)).toBeCloseTo(5, 12)
    expect(expectedRating(new Float32Array(6), 0, ids)).toBeCloseTo(2.5, 12)
  })
})

describe("digitTokenIds", () => {
  it("maps prefix+digit to its single token and names the digit that is not one", () => {
    const encode = (t: string) => (t === " 4" ? [1, 2] : [100 + t.charCodeAt(t.length - 1)])
    expect(digitTokenIds((t) => [t.charCodeAt(t.length - 1)], " ")).toEqual([48, 49, 50, 51, 52, 53])
    expect(() => digitTokenIds(encode, " ")).toThrow(/" 4" is 2 tokens.*digitPrefix/)
  })
})

describe("applyThresholds", () => {
  const triples = [
    { anchor: "a", positive: "p0", negative: "n0" },
    { anchor: "b", positive: "p1", negative: "n1" },
    { anchor: "c", positive: "p2", negative: "n2", meta: { w: 0.3 } },
    { anchor: "d", positive: "p3" }
  ]
  const ent = [4.0, 3.0, 3.5, 4.9]
  const con = [1.0, 0.5, 2.0, Number.NaN]

  it("keeps entailments >= hi and contradictions <= lo, with the scores in meta", () => {
    const { triples: kept, report } = applyThresholds(triples, ent, con, { hi: 3.5, lo: 1.5, requireNegative: false })
    expect(kept.map((t) => [t.anchor, t.negative])).toEqual([
      ["a", "n0"],
      ["c", undefined],
      ["d", undefined]
    ])
    expect(kept[1]!.meta).toEqual({ w: 0.3, curation: { entailmentScore: 3.5, contradictionScore: 2.0 } })
    expect(kept[2]!.meta).toEqual({ curation: { entailmentScore: 4.9 } })
    expect(report).toMatchObject({
      triples: 4,
      kept: 3,
      dropped: 1,
      entailments: { kept: 3, dropped: 1 },
      contradictions: { kept: 2, dropped: 1, meanScore: 3.5 / 3 }
    })
    expect(report.entailments.meanScore).toBeCloseTo((4 + 3 + 3.5 + 4.9) / 4, 12)
  })

  it("drops the whole triple when its contradiction fails and requireNegative is set", () => {
    const { triples: kept } = applyThresholds(triples, ent, con, { hi: 3.5, lo: 1.5, requireNegative: true })
    expect(kept.map((t) => t.anchor)).toEqual(["a"])
  })

  it("the stage's defaults drop the whole triple when its contradiction fails (MultiCSR filters triples)", () => {
    const defaults = Schema.decodeUnknownSync(curate.params)({ model: "m" })
    expect(defaults.requireNegative).toBe(true)
    const { triples: kept, report } = applyThresholds(triples, ent, con, defaults)
    // b fails its entailment; c's contradiction (2.0 > lo 1.5) fails; d has no contradiction at all.
    expect(kept).toEqual([{ anchor: "a", positive: "p0", negative: "n0", meta: { curation: { entailmentScore: 4.0, contradictionScore: 1.0 } } }])
    expect(report).toMatchObject({ kept: 1, dropped: 3 })
  })
})

describe("RatingPrompt", () => {
  it("fills both sentences literally and requires both placeholders", () => {
    expect(RatingPrompt.render("1: {a} 2: {b} again {a}", "x {b} $&", "y")).toBe("1: x {b} $& 2: y again x {b} $&")
    expect(() => RatingPrompt.validate("only {a}")).toThrow(/'\{b\}'/)
  })
})

describe("sameLengthBatches", () => {
  it("groups indices of one length (shortest first, then in order), at most `size` to a batch", () => {
    expect(sameLengthBatches([5, 3, 5, 3, 3, 7, 5], 2)).toEqual([[1, 3], [4], [0, 2], [6], [5]])
    expect(sameLengthBatches([], 4)).toEqual([])
  })
})
