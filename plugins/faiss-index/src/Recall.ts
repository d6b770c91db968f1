/**
 * recall@k of approximate labels against exact ones: the mean over queries of
 * |approx top-k ∩ exact top-k| / k. Both are nq x k row-major label arrays (-1 = no hit).
 */
export const recallAtK = (approx: Int32Array, exact: Int32Array, nq: number, k: number): number => {
  if (approx.length !== nq * k || exact.length !== nq * k) {
    throw new RangeError(`recallAtK: expected two ${nq}x${k} label arrays, got ${approx.length} and ${exact.length} labels`)
  }
  let hits = 0
  const truth = new Set<number>()
  for (let q = 0; q < nq; q++) {
    truth.clear()
    for (let j = q * k; j < (q + 1) * k; j++) if (exact[j] >= 0) truth.add(exact[j])
    for (let j = q * k; j < (q + 1) * k; j++) if (approx[j] >= 0 && truth.has(approx[j])) hits++
  }
  return hits / (nq * k)
}
