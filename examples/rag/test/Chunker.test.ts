import { describe, expect, it } from "vitest"
import { chunkDocument, chunkSpans, exactTopK } from "../src/index.js"

const text = "# Title\n\nalpha beta gamma delta epsilon\nzeta eta theta iota kappa lambda mu.\n\n## Second\n\nnu xi omicron pi rho sigma tau."
const words = text.split(/\s+/).filter((w) => w !== "")

describe("chunkDocument", () => {
  it("words: windows of `size` words stepping size - overlap, offsets pointing into the text", () => {
    const chunks = chunkDocument("docs/a.md", text, { unit: "words", size: 6, overlap: 2 })
    for (const c of chunks) {
      expect(text.slice(c.start, c.end)).toBe(c.text)
      expect(c.id).toBe(`docs/a.md#${c.start}-${c.end}`)
      expect(c.file).toBe("docs/a.md")
    }
    const perChunk = chunks.map((c) => c.text.split(/\s+/))
    expect(perChunk.slice(0, -1).every((w) => w.length === 6)).toBe(true)
    expect(perChunk[0]).toEqual(words.slice(0, 6))
    expect(perChunk[1]).toEqual(words.slice(4, 10))
    // the last window ends at the last word; every word is covered
    expect(perChunk.at(-1)!.at(-1)).toBe("tau.")
    expect(chunks.length).toBe(Math.ceil((words.length - 6) / 4) + 1)
    expect(chunks[0]!.heading).toBe("Title")
    expect(chunks.at(-1)!.heading).toBe("Second")
  })

  it("chars: at most `size` characters, cut at whitespace, consecutive chunks overlapping", () => {
    const spans = chunkSpans(text, { unit: "chars", size: 40, overlap: 12 })
    expect(spans[0]![0]).toBe(0)
    expect(spans.at(-1)![1]).toBe(text.length)
    for (let i = 0; i < spans.length; i++) {
      const [s, e] = spans[i]!
      expect(e - s).toBeLessThanOrEqual(40)
      expect(/\s/.test(text[s]!)).toBe(false) // starts at a word, not in whitespace
      expect(s === 0 || /\s/.test(text[s - 1]!)).toBe(true)
      expect(e === text.length || /\s/.test(text[e]!)).toBe(true) // whole words
      if (i > 0) {
        expect(s).toBeGreaterThan(spans[i - 1]![0])
        expect(s).toBeLessThan(spans[i - 1]![1]) // overlap
      }
    }
    // every non-space character is inside some chunk
    for (let p = 0; p < text.length; p++) if (!/\s/.test(text[p]!)) expect(spans.some(([s, e]) => s <= p && p < e)).toBe(true)
  })

  it("chars: a word longer than the window is split rather than looping", () => {
    const spans = chunkSpans("x".repeat(25), { unit: "chars", size: 10, overlap: 3 })
    expect(spans[0]).toEqual([0, 10])
    expect(spans.at(-1)![1]).toBe(25)
    expect(spans.length).toBeLessThan(10)
  })

  it("gives no chunks for whitespace-only text and rejects bad options with the field named", () => {
    expect(chunkDocument("e.txt", "  \n\t ")).toEqual([])
    expect(() => chunkSpans(text, { unit: "words", size: 0, overlap: 0 })).toThrow(/chunk size must be a positive integer, got 0/)
    expect(() => chunkSpans(text, { unit: "words", size: 5, overlap: 5 })).toThrow(/overlap must be an integer in \[0, size\) = \[0, 5\), got 5/)
    expect(() => chunkSpans(text, { unit: "lines" as "words", size: 5, overlap: 1 })).toThrow(/unit must be "words" or "chars"/)
  })
})

describe("exactTopK", () => {
  it("equals a full sort (descending score, lower index first on ties)", () => {
    const dim = 3
    let seed = 7
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1
    const vectors = Float32Array.from({ length: 200 * dim }, () => Math.round(next() * 4) / 4) // coarse values: many ties
    const query = Float32Array.from([0.5, -0.25, 1])
    const scores = Array.from({ length: 200 }, (_, i) => vectors[i * 3]! * 0.5 - vectors[i * 3 + 1]! * 0.25 + vectors[i * 3 + 2]!)
    const sorted = scores.map((score, index) => ({ index, score })).sort((a, b) => b.score - a.score || a.index - b.index)
    for (const k of [1, 5, 37, 200, 500]) expect(exactTopK(vectors, dim, query, k)).toEqual(sorted.slice(0, k))
  })
})

describe("heading lookup", () => {
  /** `sections` Markdown sections of `words` words each, headings of levels 1-3. */
  const manyHeadings = (sections: number, words: number) =>
    Array.from({ length: sections }, (_, i) => `${"#".repeat(1 + (i % 3))} Section ${i + 1}\n\n${"word ".repeat(words)}\n`).join("\n")

  it("each chunk gets the last heading at or before its start (checked against a scan of every heading)", () => {
    const text = "intro before any heading\n\n" + manyHeadings(200, 7) + "#not a heading\n## Last ##\ntail words"
    const headings = [...text.matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)].map((m) => ({ at: m.index!, title: m[1]! }))
    expect(headings.length).toBe(201)
    for (const options of [{ unit: "words", size: 5, overlap: 2 }, { unit: "chars", size: 37, overlap: 5 }] as const) {
      const chunks = chunkDocument("h.md", text, options)
      expect(chunks.length).toBeGreaterThan(200)
      for (const c of chunks) expect(c.heading).toBe(headings.filter((h) => h.at <= c.start).at(-1)?.title)
    }
    expect(chunkDocument("h.md", text, { unit: "words", size: 3, overlap: 0 })[0]!.heading).toBeUndefined()
    expect(chunkDocument("h.md", text, { unit: "words", size: 3, overlap: 0 }).at(-1)!.heading).toBe("Last")
  })

  it("is not quadratic: 30k headings and 30k chunks take under 4x the chunking alone (the scan of every heading: ~12x)", () => {
    // Timed against chunkSpans (the chunking alone) in the same run, so machine load cancels out. The
    // scan of every heading per chunk made chunkDocument ~12x chunkSpans here (30k x 30k comparisons).
    const text = manyHeadings(30_000, 6)
    const options = { unit: "words", size: 9, overlap: 0 } as const
    chunkDocument("warm-up.md", manyHeadings(2000, 6), options)
    let t0 = performance.now()
    const spans = chunkSpans(text, options)
    const spansMs = performance.now() - t0
    t0 = performance.now()
    const chunks = chunkDocument("big.md", text, options)
    const chunkMs = performance.now() - t0
    expect(chunks.length).toBe(spans.length)
    expect(chunks.length).toBeGreaterThanOrEqual(30_000)
    expect(chunks.at(-1)!.heading).toBe("Section 30000")
    expect(chunkMs / spansMs).toBeLessThan(4)
  })
})
