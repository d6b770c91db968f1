import { describe, expect, it } from "vitest"
import { choiceAccuracy, iclAccuracy } from "../src/index.js"

describe("ICL accuracy", () => {
  it("normalises case and spacing by default, accepts alternatives", () => {
    expect(iclAccuracy([" Positive", "negative", "neutral "], ["positive", "Positive", ["neutral", "none"]])).toEqual({ accuracy: 2 / 3, correct: 2, total: 3 })
    expect(iclAccuracy([" Positive"], ["positive"], { normalize: "exact" }).correct).toBe(0)
    expect(() => iclAccuracy(["a"], [])).toThrow(/1 predictions for 0 gold/)
  })

  it("argmax label choice", () => {
    expect(choiceAccuracy([[0.1, 0.7, 0.2], Float32Array.from([-1, -3, -0.5]), [5, 5, 1]], [1, 0, 0])).toEqual({ accuracy: 2 / 3, correct: 2, total: 3 })
  })
})
