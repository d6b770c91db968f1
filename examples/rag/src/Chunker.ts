/**
 * Splits a document into overlapping chunks by words or characters. Offsets are character
 * positions in the original text, so a chunk id (`file#start-end`) points back at its source.
 */
export interface ChunkOptions {
  /** "words": size/overlap count whitespace-separated words; "chars": characters (cut at whitespace when possible). */
  readonly unit: "words" | "chars"
  readonly size: number
  /** Units shared by consecutive chunks; 0 <= overlap < size. */
  readonly overlap: number
}

export const defaultChunkOptions: ChunkOptions = { unit: "words", size: 80, overlap: 20 }

export interface Chunk {
  /** `file#start-end` (character offsets, end exclusive). */
  readonly id: string
  readonly file: string
  readonly start: number
  readonly end: number
  readonly text: string
  /** The nearest Markdown heading above the chunk's start, if any. */
  readonly heading?: string | undefined
}

/** Throws with a message naming the bad field; returns the options otherwise. */
export const checkChunkOptions = (o: ChunkOptions): ChunkOptions => {
  if (o.unit !== "words" && o.unit !== "chars") throw new Error(`chunk unit must be "words" or "chars", got ${JSON.stringify(o.unit)}`)
  if (!Number.isSafeInteger(o.size) || o.size < 1) throw new Error(`chunk size must be a positive integer, got ${o.size}`)
  if (!Number.isSafeInteger(o.overlap) || o.overlap < 0 || o.overlap >= o.size) {
    throw new Error(`chunk overlap must be an integer in [0, size) = [0, ${o.size}), got ${o.overlap}`)
  }
  return o
}

/** [start, end) spans of the chunks of `text`; whitespace-only text gives none. */
export const chunkSpans = (text: string, options: ChunkOptions): Array<[number, number]> => {
  const o = checkChunkOptions(options)
  return o.unit === "words" ? wordSpans(text, o.size, o.overlap) : charSpans(text, o.size, o.overlap)
}

const wordSpans = (text: string, size: number, overlap: number): Array<[number, number]> => {
  const words = [...text.matchAll(/\S+/g)].map((m) => [m.index!, m.index! + m[0].length] as const)
  const spans: Array<[number, number]> = []
  for (let first = 0; first < words.length; first += size - overlap) {
    const last = Math.min(words.length, first + size) - 1
    spans.push([words[first]![0], words[last]![1]])
    if (last === words.length - 1) break
  }
  return spans
}

const isSpace = (c: string | undefined) => c !== undefined && /\s/.test(c)

const charSpans = (text: string, size: number, overlap: number): Array<[number, number]> => {
  const spans: Array<[number, number]> = []
  let start = 0
  for (;;) {
    while (start < text.length && isSpace(text[start])) start++
    if (start >= text.length) break
    let end = Math.min(text.length, start + size)
    if (end < text.length && !isSpace(text[end])) {
      // Cut at the last whitespace in the window's second half, so words stay whole when they can.
      let cut = end
      while (cut > start + size / 2 && !isSpace(text[cut - 1])) cut--
      if (cut > start + size / 2) end = cut
    }
    let trimmed = end
    while (trimmed > start && isSpace(text[trimmed - 1])) trimmed--
    spans.push([start, trimmed])
    if (end >= text.length) break
    // Step back by `overlap`, then forward to a word start, always making progress.
    let next = Math.max(start + 1, end - overlap)
    while (next < end && !isSpace(text[next - 1])) next++
    start = next
  }
  return spans
}

interface Heading {
  readonly at: number
  readonly title: string
}

/** Markdown ATX headings in order of position. */
const headingsOf = (text: string): Array<Heading> =>
  [...text.matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)].map((m) => ({ at: m.index!, title: m[1]! }))

/**
 * The last heading at or before `position`, by binary search over `headings` (sorted by `at`): a
 * scan of every heading per chunk made a 50 MB file with 236k headings take over a minute.
 */
export const headingAt = (headings: ReadonlyArray<Heading>, position: number): string | undefined => {
  let lo = 0
  let hi = headings.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (headings[mid]!.at <= position) lo = mid + 1
    else hi = mid
  }
  return lo === 0 ? undefined : headings[lo - 1]!.title
}

/** The chunks of one document; `file` is the name used in ids and citations. */
export const chunkDocument = (file: string, text: string, options: ChunkOptions = defaultChunkOptions): Array<Chunk> => {
  const headings = headingsOf(text)
  return chunkSpans(text, options).map(([start, end]) => {
    const heading = headingAt(headings, start)
    return { id: `${file}#${start}-${end}`, file, start, end, text: text.slice(start, end), ...(heading === undefined ? {} : { heading }) }
  })
}
