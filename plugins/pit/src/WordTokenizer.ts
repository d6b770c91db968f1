/**
 * A word-level tokenizer built from the training texts: words, numbers and punctuation marks are
 * tokens; `<pad>`, `<unk>`, `<bos>` and `<sep>` come first. Ids follow sorted order, so the same
 * texts always give the same vocabulary.
 */
export const specialTokens = ["<pad>", "<unk>", "<bos>", "<sep>"] as const
export const PAD = 0, UNK = 1, BOS = 2, SEP = 3

const pattern = /<sep>|[A-Za-z]+|\d+|[^\sA-Za-z\d]/g

export const words = (text: string): Array<string> => text.match(pattern) ?? []

export class WordTokenizer {
  private readonly ids: Map<string, number>

  constructor(readonly vocabulary: ReadonlyArray<string>) {
    specialTokens.forEach((t, i) => {
      if (vocabulary[i] !== t) throw new RangeError(`WordTokenizer: vocabulary[${i}] must be "${t}", got "${vocabulary[i]}"`)
    })
    this.ids = new Map(vocabulary.map((w, i) => [w, i]))
    if (this.ids.size !== vocabulary.length) throw new RangeError("WordTokenizer: the vocabulary has duplicate words")
  }

  static fromTexts(texts: Iterable<string>): WordTokenizer {
    const seen = new Set<string>()
    for (const t of texts) for (const w of words(t)) seen.add(w)
    for (const s of specialTokens) seen.delete(s)
    return new WordTokenizer([...specialTokens, ...[...seen].sort()])
  }

  get size(): number {
    return this.vocabulary.length
  }

  encode(text: string): Array<number> {
    return words(text).map((w) => this.ids.get(w) ?? UNK)
  }

  decode(ids: ArrayLike<number>): string {
    return Array.from(ids, (i) => this.vocabulary[i] ?? "<unk>").join(" ")
  }
}
