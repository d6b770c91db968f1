import type { Rng } from "@embedflow/tensor"

/** log softmax(row)[index], in float64. */
export const logSoftmaxAt = (logits: Float32Array, offset: number, vocab: number, index: number): number => {
  let max = -Infinity
  for (let i = 0; i < vocab; i++) if (logits[offset + i] > max) max = logits[offset + i]
  let sum = 0
  for (let i = 0; i < vocab; i++) sum += Math.exp(logits[offset + i] - max)
  return logits[offset + index] - max - Math.log(sum)
}

export const argmax = (logits: Float32Array, offset: number, vocab: number): number => {
  let best = 0
  for (let i = 1; i < vocab; i++) if (logits[offset + i] > logits[offset + best]) best = i
  return best
}

/**
 * Greedy when temperature is 0/undefined; otherwise samples from softmax(logits / temperature),
 * restricted to the smallest set of most likely tokens whose mass reaches topP.
 */
export const pickToken = (
  logits: Float32Array,
  offset: number,
  vocab: number,
  rng: Rng,
  temperature: number | undefined,
  topP: number | undefined
): number => {
  if (!temperature || temperature <= 0) return argmax(logits, offset, vocab)
  let max = -Infinity
  for (let i = 0; i < vocab; i++) if (logits[offset + i] > max) max = logits[offset + i]
  const p = new Float64Array(vocab)
  let total = 0
  for (let i = 0; i < vocab; i++) {
    p[i] = Math.exp((logits[offset + i] - max) / temperature)
    total += p[i]
  }
  const u = rng.next()
  if (topP !== undefined && topP < 1) {
    const order = Array.from({ length: vocab }, (_, i) => i).sort((a, b) => p[b] - p[a] || a - b)
    let kept = 0
    let mass = 0
    while (kept < vocab && (kept === 0 || mass < topP * total)) mass += p[order[kept++]]
    let target = u * mass
    for (let k = 0; k < kept; k++) {
      target -= p[order[k]]
      if (target < 0) return order[k]
    }
    return order[kept - 1]
  }
  let target = u * total
  for (let i = 0; i < vocab; i++) {
    target -= p[i]
    if (target < 0) return i
  }
  return argmax(logits, offset, vocab)
}
