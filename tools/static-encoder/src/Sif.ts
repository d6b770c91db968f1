/**
 * Smooth inverse frequency weights (Arora, Liang & Ma 2017): w = a / (a + p(word)). GloVe ships no
 * counts, so p follows Zipf's law from the vectors' frequency order: p(rank r) = (1/r) / H_N over
 * the N words of the source vocabulary (r is 1-based).
 */

export const DEFAULT_SIF_A = 1e-3

/**
 * Weights for ranks 1..count of a vocabulary of `vocabularySize` words (count <= vocabularySize:
 * a restricted vocabulary keeps the full vocabulary's probabilities).
 */
export const sifWeights = (count: number, vocabularySize: number = count, a: number = DEFAULT_SIF_A): Float32Array => {
  if (!Number.isInteger(vocabularySize) || vocabularySize < 1) throw new RangeError(`sifWeights: vocabularySize must be a positive integer, got ${vocabularySize}`)
  if (!Number.isInteger(count) || count < 0 || count > vocabularySize) {
    throw new RangeError(`sifWeights: count must be an integer in [0, ${vocabularySize}], got ${count}`)
  }
  if (!(a > 0)) throw new RangeError(`sifWeights: a must be positive, got ${a}`)
  // Harmonic number summed from the small end for accuracy.
  let harmonic = 0
  for (let r = vocabularySize; r >= 1; r--) harmonic += 1 / r
  const out = new Float32Array(count)
  for (let r = 1; r <= count; r++) out[r - 1] = a / (a + 1 / (r * harmonic))
  return out
}
