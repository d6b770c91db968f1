import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { defaultVectorsFile, parseGloveVectors, WinkFormatError } from "../src/index.js"

const enc = (s: string) => new TextEncoder().encode(s)

/** A wink-format file for `words` with vectors given as JSON number texts. */
const wink = (words: ReadonlyArray<string>, vectors: ReadonlyArray<ReadonlyArray<string>>, order = words.map((_, i) => i)) => {
  const dim = vectors[0]!.length
  const entries = order.map((i) => `${JSON.stringify(words[i])}:[${[...vectors[i]!, "1.5", String(i)].join(",")}]`)
  return `{"precision":8,"l2NormIndex":${dim},"wordIndex":${dim + 1},"size":${words.length},"dimensions":${dim},` +
    `"words":${JSON.stringify(words)},\n "vectors":{${entries.join(", ")}},"unkVector":[0,0,0,-1]}`
}

describe("wink-embeddings JSON parser", () => {
  const words = ["the", '"', "\\", "e-mail", "caf\u00e9"]
  const numbers = [
    ["-0.038194", "0.72812", "1e-05"],
    ["4e-7", "-5E+2", "0"],
    ["2.95153011", "-0.0054697", "123456789012345678"],
    ["0.1", "-0.2", "3"],
    ["1.0000001", "-1.5e-3", "7.25"]
  ]

  it("matches JSON.parse rounded to float32, escapes and non-ASCII words included", () => {
    const text = wink(words, numbers, [3, 0, 4, 1, 2])
    const v = parseGloveVectors(enc(text))
    expect(v.words).toEqual(words)
    expect(v.dim).toBe(3)
    expect(v.rows).toBe(5)
    expect(v.sourceSize).toBe(5)
    const ref = JSON.parse(text) as { vectors: Record<string, number[]> }
    words.forEach((w, r) => {
      expect(Array.from(v.vectors.subarray(r * 3, r * 3 + 3))).toEqual(ref.vectors[w]!.slice(0, 3).map(Math.fround))
      expect(v.index.get(w)).toBe(r)
    })
  })

  it("keeps only the most frequent words with maxWords, still checking every entry", () => {
    const v = parseGloveVectors(enc(wink(words, numbers)), { maxWords: 2 })
    expect(v.words).toEqual(["the", '"'])
    expect(v.vectors.length).toBe(6)
    expect(v.sourceSize).toBe(5)
    expect(v.index.has("\\")).toBe(false)
  })

  it("names the byte offset and what was expected on malformed input", () => {
    const short = wink(words, numbers).replace('"the":[-0.038194,0.72812,1e-05,', '"the":[-0.038194,0.72812,')
    expect(() => parseGloveVectors(enc(short), { file: "x.json" })).toThrow(/x\.json: byte \d+: expected a '\[' and 5 comma-separated numbers and '\]' as the vector of "the"/)
    const wrongIndex = wink(words, numbers).replace(/1\.5,1\]/, "1.5,3]")
    expect(() => parseGloveVectors(enc(wrongIndex))).toThrow(/word index \(3\) points at "\\"" in "words"/)
    const missing = `{"dimensions":1,"wordIndex":2,"words":["a","b"],"vectors":{"a":[1,1,0]}}`
    expect(() => parseGloveVectors(enc(missing))).toThrow(WinkFormatError)
    expect(() => parseGloveVectors(enc(missing))).toThrow(/a vector for each of the 2 words, found 1 \(none for "b"\)/)
    expect(() => parseGloveVectors(enc(`{"words":[]`))).toThrow(/expected ',' or '}' between top-level fields, found end of file/)
  })

  it("reads the installed package's vectors exactly (first entries checked against JSON.parse)", () => {
    const bytes = readFileSync(defaultVectorsFile())
    const v = parseGloveVectors(bytes, { maxWords: 1000 })
    expect(v.sourceSize).toBe(341_479)
    expect(v.dim).toBe(100)
    expect(v.words.slice(0, 4)).toEqual(["the", ",", ".", "of"])
    // The vectors object starts with "the", ",", ".": decode those three entries independently.
    const start = bytes.indexOf('"vectors":{')
    const head = bytes.subarray(start, start + 8000).toString("latin1")
    for (const [r, w] of ["the", ",", "."].entries()) {
      const m = new RegExp(`${JSON.stringify(w).replace(/[.]/g, "\\.")}:(\\[[^\\]]+\\])`).exec(head)!
      const ref = (JSON.parse(m[1]!) as number[]).slice(0, 100).map(Math.fround)
      expect(Array.from(v.vectors.subarray(r * 100, (r + 1) * 100))).toEqual(ref)
    }
  })
})
