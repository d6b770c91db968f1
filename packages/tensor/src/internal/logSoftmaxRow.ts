/**
 * Writes log-softmax(x[i]/τ) of one row into `out` (float64 scratch or float32 output) and returns the
 * row's log-normaliser. Shared by every loss so they agree on masking and stability.
 */
export const logSoftmaxRow = (
  x: Float32Array, offset: number, n: number, temperature: number,
  mask: Uint8Array | undefined, maskOffset: number,
  out: Float64Array | Float32Array, outOffset: number, rowIndex: number
): number => {
  const inv = 1 / temperature
  let max = -Infinity
  let nan = false
  for (let j = 0; j < n; j++) {
    if (mask !== undefined && mask[maskOffset + j] !== 0) continue
    const v = x[offset + j] * inv
    if (v > max) max = v
    else if (v !== v) nan = true
  }
  if (nan) {
    // Propagate NaN so the loss is NaN and the training loop's finiteness check names the step.
    for (let j = 0; j < n; j++) out[outOffset + j] = mask !== undefined && mask[maskOffset + j] !== 0 ? -Infinity : Number.NaN
    return Number.NaN
  }
  if (max === -Infinity) {
    throw new RangeError(`softmax: row ${rowIndex} has every entry masked (or -Infinity); at least one must remain`)
  }
  let sum = 0
  for (let j = 0; j < n; j++) {
    if (mask !== undefined && mask[maskOffset + j] !== 0) continue
    sum += Math.exp(x[offset + j] * inv - max)
  }
  const logZ = max + Math.log(sum)
  for (let j = 0; j < n; j++) {
    out[outOffset + j] = mask !== undefined && mask[maskOffset + j] !== 0 ? -Infinity : x[offset + j] * inv - logZ
  }
  return logZ
}
