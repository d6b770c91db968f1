import { describe, expect, it } from "vitest"
import { Rng } from "../src/index.js"

describe("Rng (xoshiro128**)", () => {
  it("matches the reference xoshiro128** output for state {1, 2, 3, 4}", () => {
    const r = Rng.fromState([1, 2, 3, 4])
    expect(Array.from({ length: 6 }, () => r.nextUint32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492])
  })

  it("is deterministic per seed and differs across seeds", () => {
    const seq = (seed: number) => {
      const r = new Rng(seed)
      return [r.nextUint32(), r.next(), r.normal(), r.int(1000), ...r.permutation(10)]
    }
    expect(seq(42)).toEqual(seq(42))
    expect(seq(42)).not.toEqual(seq(43))
    expect(seq(2 ** 40 + 5)).not.toEqual(seq(5)) // high bits of the seed matter
  })

  it("getState/fromState resume the exact stream", () => {
    const r = new Rng(7)
    r.next()
    const copy = Rng.fromState(r.getState())
    expect(Array.from({ length: 5 }, () => copy.nextUint32())).toEqual(Array.from({ length: 5 }, () => r.nextUint32()))
  })

  it("next() is in [0, 1) and normal() has mean 0, variance 1", () => {
    const r = new Rng(1)
    let mean = 0, m2 = 0, lo = 1, hi = 0
    const n = 100_000
    for (let i = 0; i < n; i++) {
      const u = r.next()
      lo = Math.min(lo, u)
      hi = Math.max(hi, u)
      const z = r.normal()
      mean += z
      m2 += z * z
    }
    expect(lo).toBeGreaterThanOrEqual(0)
    expect(hi).toBeLessThan(1)
    expect(Math.abs(mean / n)).toBeLessThan(0.015) // 4.7 standard errors
    expect(Math.abs(m2 / n - 1)).toBeLessThan(0.03)
  })

  it("int(n) is uniform (chi-square over 10 bins)", () => {
    const r = new Rng(3)
    const counts = new Array(10).fill(0)
    for (let i = 0; i < 50_000; i++) counts[r.int(10)]++
    const chi2 = counts.reduce((s, c) => s + (c - 5000) ** 2 / 5000, 0)
    expect(chi2).toBeLessThan(27.9) // p = 0.001 at 9 degrees of freedom
  })

  it("shuffle/permutation/sample give permutations and distinct samples", () => {
    const r = new Rng(11)
    expect(Array.from(r.permutation(50)).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    const arr = ["a", "b", "c", "d", "e"]
    expect([...r.shuffle([...arr])].sort()).toEqual(arr)
    for (const [n, k] of [[100, 100], [100, 30], [1_000_000, 20]]) {
      const s = r.sample(n, k)
      expect(s.length).toBe(k)
      expect(new Set(s).size).toBe(k)
      expect(Math.min(...s)).toBeGreaterThanOrEqual(0)
      expect(Math.max(...s)).toBeLessThan(n)
    }
    expect(() => r.sample(3, 4)).toThrow(/k=4, n=3/)
    expect(() => new Rng(0.5)).toThrow(/safe integer/)
  })

  it("fork gives an independent, reproducible stream", () => {
    const a = new Rng(5).fork(), b = new Rng(5).fork()
    expect(a.nextUint32()).toBe(b.nextUint32())
    expect(new Rng(5).fork().nextUint32()).not.toBe(new Rng(5).nextUint32())
  })
})
