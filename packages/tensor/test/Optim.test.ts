import { describe, expect, it } from "vitest"
import {
  AdamW, assertFinite, clipGradNorm, EarlyStopping, globalGradNorm, learningRateSchedule, Linear, NonFiniteError, type Parameter
} from "../src/index.js"

const param = (name: string, value: Array<number>, grad: Array<number>, decay: boolean): Parameter => ({
  name, shape: [value.length], value: Float32Array.from(value), grad: Float32Array.from(grad), decay
})

describe("AdamW", () => {
  it("two steps match a hand-computed float64 AdamW (decoupled decay only on decay params)", () => {
    const w = param("w", [0.5, -1.25, 2], [0.1, -0.3, 0.02], true)
    const b = param("b", [0.3], [-0.7], false)
    const [lr, b1, b2, eps, wd] = [0.01, 0.9, 0.99, 1e-8, 0.1]
    const opt = new AdamW([w, b], { lr, beta1: b1, beta2: b2, eps, weightDecay: wd })
    // Reference in float64, written out step by step.
    const ref = (theta: number, grads: Array<number>, decay: boolean, lrs: Array<number>) => {
      let m = 0, v = 0
      grads.forEach((g, k) => {
        const t = k + 1
        if (decay) theta = theta * (1 - lrs[k] * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta -= (lrs[k] * (m / (1 - b1 ** t))) / (Math.sqrt(v / (1 - b2 ** t)) + eps)
      })
      return theta
    }
    const g1w = [0.1, -0.3, 0.02], g2w = [-0.05, 0.4, 0.02], g1b = -0.7, g2b = 0.2
    opt.step()
    w.grad.set(g2w)
    b.grad[0] = g2b
    opt.step(0.005)
    expect(opt.stepCount).toBe(2)
    const w0 = [0.5, -1.25, 2]
    w0.forEach((v, i) => expect(w.value[i]).toBeCloseTo(ref(Math.fround(v), [Math.fround(g1w[i]), Math.fround(g2w[i])], true, [0.01, 0.005]), 6))
    expect(b.value[0]).toBeCloseTo(ref(Math.fround(0.3), [Math.fround(g1b), Math.fround(g2b)], false, [0.01, 0.005]), 6)
    opt.zeroGrad()
    expect(Array.from(w.grad)).toEqual([0, 0, 0])
  })

  it("rejects invalid hyper-parameters", () => {
    expect(() => new AdamW([], { lr: -1 })).toThrow(/lr must be ≥ 0/)
    expect(() => new AdamW([], { lr: 1, beta2: 1 })).toThrow(/beta2 must be in \[0, 1\)/)
  })
})

describe("learning-rate schedule", () => {
  it("linear warmup then linear or cosine decay to minLr", () => {
    const lin = learningRateSchedule({ peakLr: 1, warmupSteps: 4, totalSteps: 14 })
    expect([0, 1, 2, 3].map(lin)).toEqual([0.25, 0.5, 0.75, 1])
    expect(lin(9)).toBeCloseTo(0.5, 12)
    expect(lin(14)).toBe(0)
    expect(lin(100)).toBe(0)
    const cos = learningRateSchedule({ peakLr: 2, warmupSteps: 0, totalSteps: 10, decay: "cosine", minLr: 0.2 })
    expect(cos(0)).toBeCloseTo(2, 12)
    expect(cos(5)).toBeCloseTo(1.1, 12)
    expect(cos(10)).toBeCloseTo(0.2, 12)
    expect(() => learningRateSchedule({ peakLr: 1, totalSteps: 5, warmupSteps: 6 })).toThrow(/warmupSteps must be an integer in 0..totalSteps \(5\), got 6/)
  })
})

describe("gradient clipping", () => {
  it("scales all gradients to the max global norm and reports the norm before", () => {
    const a = param("a", [0, 0], [3, 0], true), b = param("b", [0], [4], false)
    expect(clipGradNorm([a, b], 10)).toBeCloseTo(5, 12)
    expect(Array.from(a.grad)).toEqual([3, 0])
    expect(clipGradNorm([a, b], 1)).toBeCloseTo(5, 12)
    expect(globalGradNorm([a, b])).toBeCloseTo(1, 5)
    expect(a.grad[0] / b.grad[0]).toBeCloseTo(0.75, 6)
  })
})

describe("early stopping", () => {
  it("stops after `patience` evaluations without improvement and restores the best weights", () => {
    const head = Linear.make({ inputDim: 2, outputDim: 1 })
    const params = head.params()
    const es = new EarlyStopping({ patience: 2, mode: "max" })
    const metrics = [0.5, 0.7, 0.65, 0.69, 0.6]
    const decisions = metrics.map((m, i) => {
      head.weight.value.fill(i)
      return es.update(m, params)
    })
    expect(decisions.map((d) => d.improved)).toEqual([true, true, false, false, false])
    expect(decisions.map((d) => d.shouldStop)).toEqual([false, false, false, true, true])
    expect(es.best).toBe(0.7)
    expect(es.bestEvaluation).toBe(1)
    es.restoreBest(params)
    expect(Array.from(head.weight.value)).toEqual([1, 1])
  })

  it("mode min with minDelta; NaN metric fails", () => {
    const es = new EarlyStopping({ patience: 1, mode: "min", minDelta: 0.1 })
    expect(es.update(1, []).improved).toBe(true)
    expect(es.update(0.95, []).improved).toBe(false)
    expect(es.update(0.85, []).improved).toBe(true)
    expect(() => es.update(Number.NaN, [])).toThrow(/dev metric \(evaluation index\) is NaN at step 3/)
  })
})

describe("non-finite detection", () => {
  it("names the step", () => {
    expect(assertFinite(1.5, 3)).toBe(1.5)
    expect(() => assertFinite(Number.NaN, 17)).toThrow("loss is NaN at step 17")
    try {
      assertFinite(Number.POSITIVE_INFINITY, 4, "gradient norm")
    } catch (e) {
      expect(e).toBeInstanceOf(NonFiniteError)
      expect((e as NonFiniteError).step).toBe(4)
      expect((e as NonFiniteError)._tag).toBe("NonFiniteError")
      expect((e as NonFiniteError).message).toBe("gradient norm is Infinity at step 4")
      return
    }
    throw new Error("assertFinite did not throw")
  })
})
