import { Schema } from "effect"
import * as PortType from "./PortType.js"

/** Port types for retrieval pipelines, shared by loaders (qrels), retrievers (candidates) and the evaluator. */

export const Qrel = Schema.Struct({
  queryId: Schema.String,
  docId: Schema.String,
  /** Graded gain, higher is more relevant; > 0 relevant, 0 judged but not relevant. */
  relevance: Schema.Number,
  /** The code as published (Cranfield: -1, 1..4, lower is more relevant). */
  code: Schema.optionalKey(Schema.Number)
})
export type Qrel = typeof Qrel.Type
export const Qrels = PortType.records("Qrels", Qrel, "relevance judgments: queryId, docId, graded relevance (> 0 relevant)")

export const Candidate = Schema.Struct({
  queryId: Schema.String,
  docId: Schema.String,
  score: Schema.Number,
  /** 1-based rank within the query's list. */
  rank: Schema.Int,
  /** Text of the document, when the retriever was given it (saves a join downstream). */
  text: Schema.optionalKey(Schema.String)
})
export type Candidate = typeof Candidate.Type
export const Candidates = PortType.records("Candidates", Candidate, "ranked retrieval results, one record per (query, document)")
