/**
 * Kendall's tau-b between two score lists over the same items: +1 when they order every pair the
 * same way, -1 when reversed; ties in either list are accounted for (tau-b). O(n^2), for the short
 * candidate lists of one query.
 */
export const kendallTau = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  if (a.length !== b.length) throw new Error(`kendallTau: lists of ${a.length} and ${b.length} scores; expected equal lengths`)
  let concordant = 0
  let discordant = 0
  let tiesA = 0
  let tiesB = 0
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const da = Math.sign(a[i]! - a[j]!)
      const db = Math.sign(b[i]! - b[j]!)
      if (da === 0 && db === 0) continue
      if (da === 0) tiesA++
      else if (db === 0) tiesB++
      else if (da === db) concordant++
      else discordant++
    }
  }
  const denom = Math.sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB))
  return denom === 0 ? 0 : (concordant - discordant) / denom
}
