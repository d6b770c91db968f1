/**
 * Groups sequence indices into batches by token length: sorted longest first so each batch pads
 * little, each batch's padded size (rows x longest) at most `maxTokens` (one row always fits).
 */
export const planBatches = (lengths: ReadonlyArray<number>, maxTokens: number, maxRows = Infinity): Array<Array<number>> => {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b)
  const batches: Array<Array<number>> = []
  let current: Array<number> = []
  let longest = 0
  for (const i of order) {
    const len = Math.max(1, lengths[i])
    const width = Math.max(longest, len)
    if (current.length > 0 && ((current.length + 1) * width > maxTokens || current.length >= maxRows)) {
      batches.push(current)
      current = []
    }
    if (current.length === 0) longest = len
    else longest = width
    current.push(i)
  }
  if (current.length > 0) batches.push(current)
  return batches
}
