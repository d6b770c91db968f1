/**
 * The prompt that asks the LLM for a 0-5 similarity rating. It contains `{a}` and `{b}` and ends
 * where the rating digit is the next token.
 */
export const defaultTemplate =
  "Rate how similar the meanings of the two sentences are, from 0 (unrelated) to 5 (same meaning).\nSentence 1: {a}\nSentence 2: {b}\nRating (0-5):"

/** Fills the template; `$` patterns in sentences stay literal. */
export const render = (template: string, a: string, b: string): string =>
  template.split("{a}").map((part) => part.split("{b}").join(b)).join(a)

export const validate = (template: string): string => {
  if (!template.includes("{a}") || !template.includes("{b}")) {
    throw new Error(`rating template needs both '{a}' and '{b}' placeholders: ${JSON.stringify(template)}`)
  }
  return template
}
