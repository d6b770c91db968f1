/** The scale's digits, "0".."5". */
export const SCALE = [0, 1, 2, 3, 4, 5] as const

/**
 * The token ids of `prefix + "0"` .. `prefix + "5"`. Each must be ONE token, or the next-token
 * distribution would not hold the rating; the error names the digit that is not.
 */
export const digitTokenIds = (encode: (text: string) => ReadonlyArray<number>, prefix: string): Array<number> =>
  SCALE.map((d) => {
    const ids = encode(`${prefix}${d}`)
    if (ids.length !== 1) {
      throw new Error(
        `${JSON.stringify(prefix + d)} is ${ids.length} tokens (${ids.join(", ")}) in this tokenizer; expected 1. Set 'digitPrefix' so every rating digit is a single token (e.g. " " for GPT-2 style BPE, "" otherwise)`
      )
    }
    return ids[0]!
  })

/**
 * Expected rating under the next-token distribution renormalised over the digit tokens:
 * sum_d d * softmax(logits[digits])_d, in float64.
 */
export const expectedRating = (logits: Float32Array, offset: number, digitIds: ReadonlyArray<number>): number => {
  let max = -Infinity
  for (const id of digitIds) max = Math.max(max, logits[offset + id]!)
  let z = 0
  let weighted = 0
  for (let d = 0; d < digitIds.length; d++) {
    const p = Math.exp(logits[offset + digitIds[d]!]! - max)
    z += p
    weighted += d * p
  }
  return weighted / z
}
