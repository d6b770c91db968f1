import { Schema } from "effect"
import { PortType } from "@embedflow/core"
import { Qrel } from "./IrCollection.js"

/**
 * Port types for retrieval pipelines, shared by loaders (qrels), retrievers (candidates) and the
 * evaluator. They belong with the data records; the lead may hoist them into core's Ports.
 */
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
