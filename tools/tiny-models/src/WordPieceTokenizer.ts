/**
 * A small BERT WordPiece vocabulary fitted on corpus word counts, and its tokenizer.json /
 * tokenizer_config.json (BertNormalizer lowercase, BertPreTokenizer, [CLS] $A [SEP] template).
 */

export const BERT_SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const

const SUFFIXES = [
  "s", "es", "ed", "ing", "ly", "er", "ers", "est", "ness", "ment", "tion", "able", "al", "ful", "less", "y", "ion", "en"
]

/** BERT-style basic tokenization, used only to count words for the vocabulary. */
export const basicTokenize = (text: string): Array<string> =>
  text
    .toLowerCase()
    .normalize("NFD")
    .replace(/\p{Mn}/gu, "")
    .split(/\s+/)
    .flatMap((w) => w.split(/([\p{P}\p{S}])/u))
    .filter((w) => w !== "")

/**
 * Vocabulary: specials, every printable ASCII character (standalone and letters/digits as `##c`
 * continuations, so any ASCII word tokenizes without [UNK]), common English suffix pieces, then
 * the most frequent corpus words (ties alphabetical) up to `size`.
 */
export const buildWordPieceVocab = (sentences: ReadonlyArray<string>, size: number): Array<string> => {
  const vocab: Array<string> = [...BERT_SPECIAL_TOKENS]
  const have = new Set(vocab)
  const add = (t: string) => {
    if (!have.has(t)) {
      have.add(t)
      vocab.push(t)
    }
  }
  for (let c = 33; c < 127; c++) {
    const ch = String.fromCharCode(c)
    if (ch.toLowerCase() === ch) add(ch)
  }
  for (let c = 33; c < 127; c++) {
    const ch = String.fromCharCode(c)
    if (/[a-z0-9]/.test(ch)) add(`##${ch}`)
  }
  for (const s of SUFFIXES) add(`##${s}`)
  const counts = new Map<string, number>()
  for (const s of sentences) for (const w of basicTokenize(s)) counts.set(w, (counts.get(w) ?? 0) + 1)
  const words = [...counts]
    .filter(([w, n]) => n >= 2 && /^[\x21-\x7e]+$/.test(w) && w.length <= 20)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  for (const [w] of words) {
    if (vocab.length >= size) break
    add(w)
  }
  return vocab
}

const special = (token: string, id: number) => ({
  id,
  content: token,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special: true
})

export const bertTokenizerJson = (vocab: ReadonlyArray<string>): object => {
  const id = (t: string) => vocab.indexOf(t)
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: BERT_SPECIAL_TOKENS.map((t) => special(t, id(t))),
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } }
      ],
      pair: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: "[SEP]", type_id: 1 } }
      ],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [id("[CLS]")], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [id("[SEP]")], tokens: ["[SEP]"] }
      }
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i]))
    }
  }
}

export const bertTokenizerConfig = (maxLength: number): object => ({
  tokenizer_class: "BertTokenizer",
  do_lower_case: true,
  tokenize_chinese_chars: true,
  strip_accents: null,
  clean_up_tokenization_spaces: true,
  model_max_length: maxLength,
  padding_side: "right",
  cls_token: "[CLS]",
  sep_token: "[SEP]",
  pad_token: "[PAD]",
  unk_token: "[UNK]",
  mask_token: "[MASK]"
})
