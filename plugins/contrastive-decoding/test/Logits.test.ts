import { describe, expect, it } from "vitest"
import { Rng } from "@embedflow/tensor"
import { argmax, combineLogits, makeSampler } from "../src/index.js"

describe("combineLogits", () => {
  it("is instructed - w * noisy, rounded once to float32, read from row offsets of one buffer", () => {
    const vocab = 7
    const rng = new Rng(3)
    const buf = Float32Array.from({ length: 3 * vocab }, () => (rng.next() - 0.5) * 20)
    const out = new Float32Array(vocab)
    for (const w of [0, 0.3, 1, 2.5, -0.7]) {
      combineLogits(buf, 0, buf, 2 * vocab, w, vocab, out)
      for (let j = 0; j < vocab; j++) expect(out[j]).toBe(Math.fround(buf[j]! - w * buf[2 * vocab + j]!))
    }
  })

  it("flips the choice exactly where the noisy distribution disagrees", () => {
    const instructed = Float32Array.of(2.0, 1.9, -1)
    const noisy = Float32Array.of(3.0, 0.0, 0)
    const out = new Float32Array(3)
    expect(argmax(combineLogits(instructed, 0, noisy, 0, 0, 3, out))).toBe(0)
    // 2.0 - 0.1 * 3 = 1.7 < 1.9: the token the noisy instruction likes more loses.
    expect(argmax(combineLogits(instructed, 0, noisy, 0, 0.1, 3, out))).toBe(1)
    // Below the crossover (w < 0.1/3) the instructed favourite stays.
    expect(argmax(combineLogits(instructed, 0, noisy, 0, 0.03, 3, out))).toBe(0)
  })

  it("rejects rows outside the buffer", () => {
    expect(() => combineLogits(new Float32Array(4), 2, new Float32Array(4), 0, 1, 4, new Float32Array(4))).toThrow(/outside/)
  })
})

describe("makeSampler", () => {
  const logits = Float32Array.of(1, 3, 2, 0.5, -1)

  it("is argmax at temperature 0, first index on ties", () => {
    expect(makeSampler(5, { temperature: 0, topP: 1 })(logits, new Rng(1))).toBe(1)
    expect(argmax(Float32Array.of(1, 4, 4))).toBe(1)
  })

  it("draws with softmax(logits / T) frequencies", () => {
    const sample = makeSampler(5, { temperature: 2, topP: 1 })
    const rng = new Rng(7)
    const counts = new Array(5).fill(0)
    const n = 40000
    for (let i = 0; i < n; i++) counts[sample(logits, rng)]++
    const e = Array.from(logits, (l) => Math.exp(l / 2))
    const z = e.reduce((a, b) => a + b, 0)
    e.forEach((p, j) => expect(Math.abs(counts[j] / n - p / z)).toBeLessThan(0.01))
  })

  it("keeps only the nucleus and renormalises it", () => {
    // Probabilities at T=1: ~[0.086, 0.636, 0.234, 0.052, 0.012]; top-p 0.8 keeps tokens 1 and 2.
    const sample = makeSampler(5, { temperature: 1, topP: 0.8 })
    const rng = new Rng(11)
    const counts = new Array(5).fill(0)
    const n = 20000
    for (let i = 0; i < n; i++) counts[sample(logits, rng)]++
    expect(counts[0] + counts[3] + counts[4]).toBe(0)
    const p1 = Math.exp(3) / (Math.exp(3) + Math.exp(2))
    expect(Math.abs(counts[1] / n - p1)).toBeLessThan(0.015)
  })

  it("is reproducible from the seed", () => {
    const sample = makeSampler(5, { temperature: 1, topP: 0.95 })
    const draw = (seed: number) => {
      const rng = new Rng(seed)
      return Array.from({ length: 50 }, () => sample(logits, rng))
    }
    expect(draw(5)).toEqual(draw(5))
    expect(draw(5)).not.toEqual(draw(6))
  })

  it("rejects bad options by name", () => {
    expect(() => makeSampler(5, { temperature: -1, topP: 1 })).toThrow(/temperature/)
    expect(() => makeSampler(5, { temperature: 1, topP: 0 })).toThrow(/topP/)
  })
})
