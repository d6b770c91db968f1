import type { Rng } from "@embedflow/tensor"

export interface SamplingOptions {
  /** 0 picks the most likely token (greedy); otherwise logits are divided by it before softmax. */
  readonly temperature: number
  /** Nucleus sampling: draw only among the most likely tokens whose mass reaches topP (1 = all). */
  readonly topP: number
}

/** Index of the largest of `logits[offset, offset + n)`; the first one on ties. */
export const argmax = (logits: Float32Array, offset = 0, n = logits.length - offset): number => {
  let best = 0
  let bestValue = logits[offset]!
  for (let j = 1; j < n; j++) {
    const v = logits[offset + j]!
    if (v > bestValue) {
      bestValue = v
      best = j
    }
  }
  return best
}

/**
 * A reusable token picker over one row of logits. It owns its scratch buffers, so the decoding
 * loop allocates nothing per step.
 */
export const makeSampler = (vocab: number, options: SamplingOptions) => {
  if (!(options.temperature >= 0)) throw new RangeError(`temperature must be >= 0, got ${options.temperature}`)
  if (!(options.topP > 0 && options.topP <= 1)) throw new RangeError(`topP must be in (0, 1], got ${options.topP}`)
  const probs = new Float64Array(vocab)
  const order = new Int32Array(vocab)
  return (logits: Float32Array, rng: Rng): number => {
    if (options.temperature === 0) return argmax(logits, 0, vocab)
    let max = -Infinity
    for (let j = 0; j < vocab; j++) if (logits[j]! > max) max = logits[j]!
    let total = 0
    for (let j = 0; j < vocab; j++) {
      const p = Math.exp((logits[j]! - max) / options.temperature)
      probs[j] = p
      total += p
    }
    let count = vocab
    let mass = total
    if (options.topP < 1) {
      for (let j = 0; j < vocab; j++) order[j] = j
      // Ties broken by index, so the nucleus does not depend on the sort's stability.
      order.sort((a, b) => probs[b]! - probs[a]! || a - b)
      mass = 0
      count = 0
      while (count < vocab) {
        mass += probs[order[count]!]!
        count++
        if (mass >= options.topP * total) break
      }
    }
    let u = rng.next() * mass
    for (let k = 0; k < count; k++) {
      const j = options.topP < 1 ? order[k]! : k
      u -= probs[j]!
      if (u < 0) return j
    }
    // Rounding left u a hair above zero: the last token of the nucleus.
    return options.topP < 1 ? order[count - 1]! : vocab - 1
  }
}
