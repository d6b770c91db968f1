/**
 * A GPT-2-style byte-level BPE fitted on the corpus (standard pair-merge training with
 * incremental pair counts), and its tokenizer.json / tokenizer_config.json.
 */

export const END_OF_TEXT = "<|endoftext|>"

/** GPT-2's reversible byte -> printable unicode character map. */
export const bytesToUnicode = (): Array<string> => {
  const bs: Array<number> = []
  for (let b = 33; b <= 126; b++) bs.push(b)
  for (let b = 161; b <= 172; b++) bs.push(b)
  for (let b = 174; b <= 255; b++) bs.push(b)
  const map = new Array<string>(256)
  for (const b of bs) map[b] = String.fromCharCode(b)
  let n = 0
  for (let b = 0; b < 256; b++) if (map[b] === undefined) map[b] = String.fromCharCode(256 + n++)
  return map
}

const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu

export interface ByteLevelBpe {
  /** Token strings by id: 256 byte symbols, merged symbols in merge order, then END_OF_TEXT. */
  readonly vocab: ReadonlyArray<string>
  /** "left right" merge rules, highest priority first. */
  readonly merges: ReadonlyArray<string>
}

/** Learns merges until the vocabulary (bytes + merges + END_OF_TEXT) has `vocabSize` entries. */
export const trainByteLevelBpe = (sentences: ReadonlyArray<string>, vocabSize: number): ByteLevelBpe => {
  const byteChar = bytesToUnicode()
  const utf8 = new TextEncoder()
  const wordCounts = new Map<string, number>()
  for (const s of sentences) for (const m of s.matchAll(GPT2_SPLIT)) wordCounts.set(m[0], (wordCounts.get(m[0]) ?? 0) + 1)

  const tokens: Array<string> = byteChar.slice()
  const words: Array<Array<number>> = []
  const counts: Array<number> = []
  for (const [w, n] of [...wordCounts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    words.push(Array.from(utf8.encode(w)))
    counts.push(n)
  }

  const KEY = 1 << 16
  const pairCounts = new Map<number, number>()
  const pairWords = new Map<number, Set<number>>()
  const addPairs = (wi: number, sign: 1 | -1) => {
    const w = words[wi]
    for (let i = 0; i + 1 < w.length; i++) {
      const key = w[i] * KEY + w[i + 1]
      const c = (pairCounts.get(key) ?? 0) + sign * counts[wi]
      if (c === 0) pairCounts.delete(key)
      else pairCounts.set(key, c)
      if (sign === 1) {
        let set = pairWords.get(key)
        if (set === undefined) pairWords.set(key, (set = new Set()))
        set.add(wi)
      }
    }
  }
  for (let wi = 0; wi < words.length; wi++) addPairs(wi, 1)

  const merges: Array<string> = []
  while (tokens.length < vocabSize - 1) {
    let best = -1
    let bestCount = 1 // a merge must occur at least twice
    for (const [key, c] of pairCounts) if (c > bestCount || (c === bestCount && best !== -1 && key < best)) [best, bestCount] = [key, c]
    if (best === -1) break
    const a = Math.floor(best / KEY)
    const b = best % KEY
    const id = tokens.length
    tokens.push(tokens[a] + tokens[b])
    merges.push(`${tokens[a]} ${tokens[b]}`)
    for (const wi of [...(pairWords.get(best) ?? [])].sort((x, y) => x - y)) {
      const w = words[wi]
      let found = false
      for (let i = 0; i + 1 < w.length; i++) if (w[i] === a && w[i + 1] === b) found = true
      if (!found) continue
      addPairs(wi, -1)
      const merged: Array<number> = []
      for (let i = 0; i < w.length; i++) {
        if (i + 1 < w.length && w[i] === a && w[i + 1] === b) {
          merged.push(id)
          i++
        } else merged.push(w[i])
      }
      words[wi] = merged
      addPairs(wi, 1)
    }
    pairWords.delete(best)
  }
  tokens.push(END_OF_TEXT)
  return { vocab: tokens, merges }
}

export const gpt2TokenizerJson = (bpe: ByteLevelBpe): object => ({
  version: "1.0",
  truncation: null,
  padding: null,
  added_tokens: [
    {
      id: bpe.vocab.indexOf(END_OF_TEXT),
      content: END_OF_TEXT,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true
    }
  ],
  normalizer: null,
  pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
  post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
  decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: {
    type: "BPE",
    dropout: null,
    unk_token: null,
    continuing_subword_prefix: "",
    end_of_word_suffix: "",
    fuse_unk: false,
    byte_fallback: false,
    ignore_merges: false,
    vocab: Object.fromEntries(bpe.vocab.map((t, i) => [t, i])),
    merges: bpe.merges
  }
})

export const gpt2TokenizerConfig = (maxLength: number): object => ({
  tokenizer_class: "GPT2Tokenizer",
  add_prefix_space: false,
  clean_up_tokenization_spaces: false,
  model_max_length: maxLength,
  bos_token: END_OF_TEXT,
  eos_token: END_OF_TEXT,
  unk_token: END_OF_TEXT
})
