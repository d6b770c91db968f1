import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Ports } from "@embedflow/core"
import { makeBatches, maskBatches, maskFalseNegatives } from "../src/index.js"

const { packMask, unpackMask } = Ports

describe("maskFalseNegatives", () => {
  // 2 anchors; columns: pos0, pos1, neg0 (owner 0), neg1 (owner 1)
  const sim = Float64Array.of(
    0.8, 0.85, 0.95, 0.2, //
    0.3, 0.6, 0.1, 0.58
  )

  it("threshold: masks every candidate but the own positive with sim > threshold", () => {
    expect(Array.from(maskFalseNegatives(sim, 2, 4, { mode: "threshold", threshold: 0.82, margin: 0 }))).toEqual([0, 1, 1, 0, 0, 0, 0, 0])
    // The own positive is never masked, however high its similarity.
    expect(Array.from(maskFalseNegatives(sim, 2, 4, { mode: "threshold", threshold: 0.0, margin: 0 }))).toEqual([0, 1, 1, 1, 1, 0, 1, 1])
  })

  it("gist: masks candidates with sim > own positive sim - margin, strictly", () => {
    expect(Array.from(maskFalseNegatives(sim, 2, 4, { mode: "gist", threshold: 0, margin: 0 }))).toEqual([0, 1, 1, 0, 0, 0, 0, 0])
    // margin 0.02: row 1 limit 0.58, and 0.58 is not > 0.58.
    expect(Array.from(maskFalseNegatives(sim, 2, 4, { mode: "gist", threshold: 0, margin: 0.02 }))).toEqual([0, 1, 1, 0, 0, 0, 0, 0])
    expect(Array.from(maskFalseNegatives(sim, 2, 4, { mode: "gist", threshold: 0, margin: 0.03 }))).toEqual([0, 1, 1, 0, 0, 0, 0, 1])
  })

  it("none masks nothing", () => {
    expect(Array.from(maskFalseNegatives(sim, 2, 4, { mode: "none", threshold: 0, margin: 0 }))).toEqual(new Array(8).fill(0))
  })

  it("rejects a shape without the positives", () => {
    expect(() => maskFalseNegatives(new Float64Array(2), 2, 1, { mode: "gist", threshold: 0, margin: 0 })).toThrow(/needs its positive/)
  })
})

describe("packMask", () => {
  it("round-trips odd sizes and checks the byte count", () => {
    const bits = Uint8Array.from({ length: 3 * 5 }, (_, k) => (k * 7) % 3 === 0 ? 1 : 0)
    const batch = { index: 0, anchors: ["a", "b", "c"], positives: ["1", "2", "3"], negatives: ["x", "y"], negativeOwners: [0, 2], mask: packMask(bits), masked: 0 }
    expect(Array.from(unpackMask(batch))).toEqual(Array.from(bits))
    expect(() => unpackMask({ ...batch, negatives: ["x", "y", "z", "w", "v", "u", "t", "s", "r"] })).toThrow(/expected ceil/)
  })
})

describe("makeBatches", () => {
  it("is a seeded permutation cut into batches", () => {
    const items = Array.from({ length: 10 }, (_, i) => i)
    const b = makeBatches(items, { batchSize: 4, seed: 1, dropLast: false })
    expect(b.map((x) => x.length)).toEqual([4, 4, 2])
    expect(b.flat().sort((x, y) => x - y)).toEqual(items)
    expect(makeBatches(items, { batchSize: 4, seed: 1, dropLast: false })).toEqual(b)
    expect(makeBatches(items, { batchSize: 4, seed: 2, dropLast: false })).not.toEqual(b)
    expect(makeBatches(items, { batchSize: 4, seed: 1, dropLast: true }).map((x) => x.length)).toEqual([4, 4])
  })
})

describe("maskBatches", () => {
  // Hand-made 2-d teacher: texts on the unit circle at the given angles (degrees).
  const angle: Record<string, number> = { a0: 0, p0: 10, n0: 85, a1: 90, p1: 100, n1: 5, a2: 200, p2: 230, n2: 205 }
  const embed = (texts: ReadonlyArray<string>) =>
    Effect.sync(() => {
      calls.push([...texts])
      return Float32Array.from(texts.flatMap((t) => [Math.cos((angle[t]! * Math.PI) / 180), Math.sin((angle[t]! * Math.PI) / 180)]))
    })
  const calls: Array<Array<string>> = []
  const triples = [0, 1, 2].map((i) => ({ anchor: `a${i}`, positive: `p${i}`, negative: `n${i}` }))

  it("masks by the teacher's cosines, embedding each distinct text once", async () => {
    calls.length = 0
    const { batches, report } = await Effect.runPromise(maskBatches(triples, { batchSize: 3, seed: 0, dropLast: false, mode: "gist", threshold: 0, margin: 0, embed }))
    expect(calls).toHaveLength(1)
    expect(new Set(calls[0]).size).toBe(calls[0]!.length)
    expect(batches).toHaveLength(1)
    const b = batches[0]!
    const bits = unpackMask(b)
    const cols = 6
    // Expected from the angles: candidate closer to the anchor than its own positive is masked.
    const cos = (x: string, y: string) => Math.cos(((angle[x]! - angle[y]!) * Math.PI) / 180)
    const candidates = [...b.positives, ...b.negatives]
    b.anchors.forEach((a, i) =>
      candidates.forEach((c, j) => expect(bits[i * cols + j]).toBe(j !== i && cos(a, c) > cos(a, b.positives[i]!) ? 1 : 0))
    )
    // a0 (0 deg): n1 at 5 deg is closer than p0 at 10 deg -> masked; a2: n2 at 205 closer than p2 at 230 -> own negative masked.
    const at = (a: string, c: string) => bits[b.anchors.indexOf(a) * cols + candidates.indexOf(c)]
    expect([at("a0", "n1"), at("a2", "n2"), at("a1", "n0"), at("a0", "n0")]).toEqual([1, 1, 1, 0])
    expect(report.masked).toBe(b.masked)
    expect(report.maskRate).toBeCloseTo(b.masked / 15, 12)
    expect(report.ownNegativesMasked).toBe(1)
  })

  it("mode none never calls the teacher", async () => {
    calls.length = 0
    const { report } = await Effect.runPromise(maskBatches(triples, { batchSize: 2, seed: 0, dropLast: false, mode: "none", threshold: 0, margin: 0, embed }))
    expect(calls).toHaveLength(0)
    expect(report).toMatchObject({ batches: 2, masked: 0, maskRate: 0 })
  })
})
