import { Schema } from "effect"
import * as PortType from "./PortType.js"

/** Port types shared by many plugins. A plugin may define its own with the PortType constructors. */

export const TextRecord = Schema.Struct({ id: Schema.String, text: Schema.String })
export type TextRecord = typeof TextRecord.Type
export const Texts = PortType.records("Texts", TextRecord, "texts with ids (sentences, documents, queries)")

export const Triple = Schema.Struct({
  anchor: Schema.String,
  positive: Schema.String,
  negative: Schema.optionalKey(Schema.String),
  meta: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown))
})
export type Triple = typeof Triple.Type
export const Triples = PortType.records("Triples", Triple, "anchor, positive and optional hard negative")

export const ScoredPair = Schema.Struct({
  id: Schema.String,
  a: Schema.String,
  b: Schema.String,
  score: Schema.Number
})
export type ScoredPair = typeof ScoredPair.Type
export const ScoredPairs = PortType.records("ScoredPairs", ScoredPair, "sentence pairs with a similarity score (e.g. STS gold)")

export const Embeddings = PortType.vectors("Embeddings", "float32 row vectors with ids")

export const Model = PortType.directory("Model", "a model folder (ONNX + tokenizer.json + config.json)")

export const Report = PortType.json("Report", Schema.Unknown, "a JSON report (metrics, tables)")

export const Folder = PortType.directory("Folder", "a folder of files (reports, exported artifacts)")

// Port types that one plugin produces and others consume live here, so no plugin imports another.
export * from "./LabeledExamples.js"
export * from "./MaskedBatches.js"
export * from "./RetrievalPorts.js"
export * from "./ScoredCandidates.js"
