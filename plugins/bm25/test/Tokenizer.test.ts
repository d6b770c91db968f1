import { describe, expect, it } from "vitest"
import { Tokenizer } from "../src/index.js"

describe("Tokenizer", () => {
  it("lower-cases and splits on Unicode word boundaries", () => {
    const t = Tokenizer.make()
    expect(t.tokenize("The Café's naïve résumé — don't STOP, x2-3.5!")).toEqual(["the", "café's", "naïve", "résumé", "don't", "stop", "x2", "3", "5"])
    expect(t.tokenize("Ｆｕｌｌｗｉｄｔｈ Straße 東京 μ-meson")).toEqual(["fullwidth", "straße", "東京", "μ", "meson"])
    expect(t.tokenize("don\u2019t")).toEqual(["don't"])
    expect(Tokenizer.make({ lowercase: false }).tokenize("The Cat")).toEqual(["The", "Cat"])
  })

  it("optional English stop words and S-stemming (off by default)", () => {
    expect(Tokenizer.make().tokenize("the flows of a wing")).toEqual(["the", "flows", "of", "a", "wing"])
    const t = Tokenizer.make({ stopWords: "english", stem: true })
    expect(t.tokenize("The flows of a wing and its libraries")).toEqual(["flow", "wing", "it", "library"])
    expect(Tokenizer.make({ stopWords: ["Wing"] }).tokenize("a wing")).toEqual(["a"])
  })

  it("S-stemmer rules (Harman 1991)", () => {
    const cases: Record<string, string> = {
      libraries: "library", flies: "fly", ties: "ty", aies: "aie", movies: "movy", eies: "eie",
      horses: "horse", goes: "goe", shoes: "shoe", trees: "tree", cases: "case",
      cats: "cat", corpus: "corpus", glass: "glass", is: "is", s: "s"
    }
    // The rules are literal: "ties" -> "ty"; "goes"/"shoes" lose only the s ("-oes" is excluded from the -es rule).
    for (const [w, stem] of Object.entries(cases)) expect([w, Tokenizer.sStem(w)]).toEqual([w, stem])
  })
})
