/**
 * Homogeneity, completeness and V-measure of a clustering against gold classes, as scikit-learn's
 * `homogeneity_completeness_v_measure` (natural-log entropies, beta = 1): V = 2·h·c / (h + c).
 */
export const vMeasure = (classes: ReadonlyArray<string | number>, clusters: ArrayLike<number>) => {
  const n = classes.length
  if (clusters.length !== n) throw new RangeError(`vMeasure: ${n} labels but ${clusters.length} cluster assignments`)
  if (n === 0) return { homogeneity: 1, completeness: 1, v_measure: 1 }
  const classIndex = new Map<string | number, number>()
  const clusterIndex = new Map<number, number>()
  const ci = classes.map((c) => classIndex.get(c) ?? (classIndex.set(c, classIndex.size), classIndex.size - 1))
  const ki = Array.from(clusters, (k) => clusterIndex.get(k) ?? (clusterIndex.set(k, clusterIndex.size), clusterIndex.size - 1))
  const C = classIndex.size
  const K = clusterIndex.size
  const joint = new Float64Array(C * K)
  const classCount = new Float64Array(C)
  const clusterCount = new Float64Array(K)
  for (let i = 0; i < n; i++) {
    joint[ci[i]! * K + ki[i]!]!++
    classCount[ci[i]!]!++
    clusterCount[ki[i]!]!++
  }
  const entropy = (counts: Float64Array) => {
    let h = 0
    for (const c of counts) if (c > 0) h -= (c / n) * Math.log(c / n)
    return h
  }
  const hC = entropy(classCount)
  const hK = entropy(clusterCount)
  let mi = 0
  for (let c = 0; c < C; c++) {
    for (let k = 0; k < K; k++) {
      const nck = joint[c * K + k]!
      if (nck > 0) mi += (nck / n) * Math.log((nck * n) / (classCount[c]! * clusterCount[k]!))
    }
  }
  // H(C|K) = H(C) - MI; scikit-learn defines h = 1 when H(C) = 0 (and c likewise).
  const homogeneity = hC === 0 ? 1 : mi / hC
  const completeness = hK === 0 ? 1 : mi / hK
  const v_measure = homogeneity + completeness === 0 ? 0 : (2 * homogeneity * completeness) / (homogeneity + completeness)
  return { homogeneity, completeness, v_measure }
}
