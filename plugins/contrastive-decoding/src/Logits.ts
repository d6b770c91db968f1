/**
 * Instructive decoding (Kim et al., ICLR'24), as MultiCSR uses it: the next-token logits under the
 * instruction minus `w` times those under a noisy (e.g. opposite) instruction, so tokens that the
 * instruction favours *more than* the noisy one does win.
 */

/**
 * `out[j] = instructed[iOff + j] - w * noisy[nOff + j]` for j < vocab, in one float32 rounding.
 * `instructed` and `noisy` may be the same [batch x vocab] buffer with different row offsets.
 */
export const combineLogits = (
  instructed: Float32Array,
  instructedOffset: number,
  noisy: Float32Array,
  noisyOffset: number,
  w: number,
  vocab: number,
  out: Float32Array
): Float32Array => {
  if (out.length < vocab) throw new RangeError(`combineLogits: out has ${out.length} slots, expected at least vocab=${vocab}`)
  if (instructedOffset + vocab > instructed.length || noisyOffset + vocab > noisy.length) {
    throw new RangeError(`combineLogits: row [${instructedOffset}, +${vocab}) or [${noisyOffset}, +${vocab}) is outside the logits buffer`)
  }
  if (w === 0) {
    out.set(instructed.subarray(instructedOffset, instructedOffset + vocab))
    return out
  }
  for (let j = 0; j < vocab; j++) out[j] = instructed[instructedOffset + j]! - w * noisy[noisyOffset + j]!
  return out
}
