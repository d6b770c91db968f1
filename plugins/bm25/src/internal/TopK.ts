/**
 * The k best (score, doc) pairs seen so far, as a binary min-heap on typed arrays: the root is the
 * weakest kept entry, so a candidate is compared once against it. Ties prefer the lower doc index,
 * which keeps results deterministic.
 */
export class TopK {
  readonly scores: Float64Array
  readonly docs: Int32Array
  size = 0

  constructor(readonly k: number) {
    this.scores = new Float64Array(k)
    this.docs = new Int32Array(k)
  }

  /** a is worse than b. */
  private worse(sa: number, da: number, sb: number, db: number): boolean {
    return sa < sb || (sa === sb && da > db)
  }

  push(score: number, doc: number): void {
    if (this.k === 0) return
    const { scores, docs } = this
    if (this.size < this.k) {
      let i = this.size++
      while (i > 0) {
        const p = (i - 1) >> 1
        if (!this.worse(score, doc, scores[p]!, docs[p]!)) break
        scores[i] = scores[p]!
        docs[i] = docs[p]!
        i = p
      }
      scores[i] = score
      docs[i] = doc
      return
    }
    if (!this.worse(scores[0]!, docs[0]!, score, doc)) return
    // Replace the root and sift down.
    let i = 0
    const n = this.size
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && this.worse(scores[r]!, docs[r]!, scores[l]!, docs[l]!) ? r : l
      if (!this.worse(scores[c]!, docs[c]!, score, doc)) break
      scores[i] = scores[c]!
      docs[i] = docs[c]!
      i = c
    }
    scores[i] = score
    docs[i] = doc
  }

  /** Entries best first. */
  sorted(): Array<{ readonly doc: number; readonly score: number }> {
    const out = Array.from({ length: this.size }, (_, i) => ({ doc: this.docs[i]!, score: this.scores[i]! }))
    return out.sort((a, b) => b.score - a.score || a.doc - b.doc)
  }
}
