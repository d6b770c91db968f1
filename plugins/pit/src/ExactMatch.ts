/**
 * Exact match of a generated answer against the gold one, after SQuAD-style normalisation without
 * article removal: lower case, punctuation dropped, whitespace collapsed ("March 3 , 1971" and
 * "march 3, 1971" match; "March 3" and "March 3 , 1971" do not).
 */
import { words } from "./WordTokenizer.js"

export const normalizeAnswer = (text: string): string =>
  words(text.toLowerCase())
    .filter((w) => /[a-z0-9]/.test(w))
    .join(" ")

export const exactMatch = (prediction: string, gold: string): boolean => normalizeAnswer(prediction) === normalizeAnswer(gold)

/** Percentage of exact matches over aligned predictions and golds. */
export const exactMatchScore = (predictions: ReadonlyArray<string>, golds: ReadonlyArray<string>): number => {
  if (predictions.length !== golds.length) throw new RangeError(`exactMatchScore: ${predictions.length} predictions for ${golds.length} golds`)
  if (golds.length === 0) throw new RangeError("exactMatchScore: no questions")
  return (100 * predictions.filter((p, i) => exactMatch(p, golds[i]!)).length) / golds.length
}
