/**
 * The word tokenizer the static encoder uses, in TypeScript and as the equivalent Hugging Face
 * `tokenizer.json` normalizer + pre-tokenizer (transformers.js and Rust `tokenizers` give the same
 * tokens; the tests check every STS-B test sentence).
 *
 * Lower-case, then: a token is a run of ASCII letters/digits, optionally followed by an apostrophe
 * and letters (the clitic stays attached: "woman's", "don't"); every other non-space character is a
 * token by itself (punctuation, hyphens, non-ASCII letters). Why this shape: the wink vocabulary
 * has no clitic tokens ("'s", "n't") and no hyphen-split pieces reach hyphenated entries, and this
 * tokenisation reproduces the reference STS-B figures to within 0.001 (README, "Tokenisation").
 */

/** The token pattern, applied after lower-casing. Oniguruma and JS read it the same way. */
export const TOKEN_PATTERN = "[a-z0-9]+(?:'[a-z]+)?|[^a-z0-9\\s]"

const TOKEN_RE = new RegExp(TOKEN_PATTERN, "gu")

/** Lower-cased word/punctuation tokens of `text`. */
export const tokenize = (text: string): Array<string> => text.toLowerCase().match(TOKEN_RE) ?? []

/** The `normalizer` and `pre_tokenizer` sections of tokenizer.json that reproduce `tokenize`. */
export const tokenizerJsonPipeline = () => ({
  normalizer: { type: "Lowercase" },
  pre_tokenizer: { type: "Split", pattern: { Regex: TOKEN_PATTERN }, behavior: "Removed", invert: true }
})
