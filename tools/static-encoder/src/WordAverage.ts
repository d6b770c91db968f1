/**
 * The plain TypeScript static encoder: tokenize, look up, (weighted) average. It is the reference
 * the ONNX model is checked against and the baseline of the throughput benchmark.
 */
import type { GloveVectors } from "./GloveVectors.js"
import { tokenize } from "./Tokenizer.js"

export interface WordAverageOptions {
  /** Per-row weights (e.g. `sifWeights`); omitted: a plain average. */
  readonly weights?: Float32Array
}

/**
 * Row-major [texts.length x dim]: Σ w(t)·v(t) / n over the n in-vocabulary tokens t of each text
 * (out-of-vocabulary tokens are skipped; a text with none gives a zero row).
 */
export const averageWordVectors = (vectors: GloveVectors, texts: ReadonlyArray<string>, options: WordAverageOptions = {}): Float32Array => {
  const { dim, index } = vectors
  const weights = options.weights
  if (weights !== undefined && weights.length < vectors.rows) {
    throw new RangeError(`averageWordVectors: ${weights.length} weights for ${vectors.rows} vocabulary rows`)
  }
  const out = new Float32Array(texts.length * dim)
  const acc = new Float64Array(dim)
  texts.forEach((text, i) => {
    acc.fill(0)
    let n = 0
    for (const token of tokenize(text)) {
      const r = index.get(token)
      if (r === undefined) continue
      const w = weights === undefined ? 1 : weights[r]!
      const o = r * dim
      for (let j = 0; j < dim; j++) acc[j] += w * vectors.vectors[o + j]!
      n++
    }
    if (n > 0) for (let j = 0; j < dim; j++) out[i * dim + j] = acc[j]! / n
  })
  return out
}
