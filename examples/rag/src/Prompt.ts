import type { Hit } from "./ChunkIndex.js"

export const INSTRUCTIONS =
  "Answer the question using only the numbered passages below. Cite the passages you use by number, like [1] or [2]. If the passages do not contain the answer, say so."

/** The prompt: instructions, numbered passages (with their file), the question, then "Answer:". */
export const buildPrompt = (question: string, hits: ReadonlyArray<Hit>): string =>
  [
    INSTRUCTIONS,
    "",
    ...hits.map((h, i) => `[${i + 1}] (${h.chunk.file}) ${h.chunk.text.replace(/\s+/g, " ").trim()}`),
    "",
    `Question: ${question}`,
    "Answer:"
  ].join("\n")

/** Passage numbers in 1..count that the answer cites as [n] (also [1, 3] and [1][2]), ascending. */
export const citedNumbers = (answer: string, count: number): Array<number> => {
  const cited = new Set<number>()
  for (const group of answer.matchAll(/\[(\d+(?:\s*,\s*\d+)*)\]/g)) {
    for (const n of group[1]!.split(",").map((s) => Number(s.trim()))) if (n >= 1 && n <= count) cited.add(n)
  }
  return [...cited].sort((a, b) => a - b)
}
