import { Schema } from "effect"
import * as PortType from "./PortType.js"

/** A labelled example of an in-context learning task; `label` is the gold output (a verbalizer or answer). */
export const LabeledExample = Schema.Struct({ id: Schema.String, text: Schema.String, label: Schema.String })
export type LabeledExample = typeof LabeledExample.Type

export const LabeledExamples = PortType.records(
  "LabeledExamples",
  LabeledExample,
  "task examples: input text and gold output (a label verbalizer), the demonstration pool and the queries of ICL"
)
