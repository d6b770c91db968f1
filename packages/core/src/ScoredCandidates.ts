import * as PortType from "./PortType.js"
import { Schema } from "effect"

/** A candidate demonstration for one query and how useful it is (higher is better). */
export const ScoredCandidate = Schema.Struct({
  id: Schema.String,
  /** The demonstration's input text. */
  text: Schema.String,
  /** The demonstration's gold output (label verbalizer or answer), shown after its input. */
  output: Schema.String,
  score: Schema.Number
})
export type ScoredCandidate = typeof ScoredCandidate.Type

/** One training query with its candidates, sorted by score, best first. */
export const ScoredQuery = Schema.Struct({
  id: Schema.String,
  text: Schema.String,
  /** The query's gold output. */
  gold: Schema.String,
  candidates: Schema.Array(ScoredCandidate)
})
export type ScoredQuery = typeof ScoredQuery.Type

/**
 * LLM-R's feedback data: per query, candidates ranked by a scorer (the LLM's log p(gold | demo, query),
 * or a reward model's score). Produced by `llm-scorer/score` and `reward-cross-encoder/score`.
 */
export const ScoredCandidates = PortType.records(
  "ScoredCandidates",
  ScoredQuery,
  "queries with candidate demonstrations ranked by a score (LLM log-likelihood or reward), best first"
)

/** Sorts candidates by score, best first; ties keep their order (stable sort). */
export const sortCandidates = <C extends { readonly score: number }>(candidates: ReadonlyArray<C>): Array<C> =>
  [...candidates].sort((a, b) => b.score - a.score)

/** The text retrievers and reward models see for a demonstration: its input, then its output. */
export const demonstrationText = (c: { readonly text: string; readonly output: string }): string => `${c.text} ${c.output}`
