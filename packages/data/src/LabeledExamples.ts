import { PortType } from "@embedflow/core"
import { Schema } from "effect"

/**
 * Labelled examples (text + label), the records of classification and ICL tasks. Same name and
 * schema as the llm-scorer plugin's `LabeledExamples`, so the ports connect; when core hoists the
 * type, this becomes a re-export of it.
 */
export const LabeledExample = Schema.Struct({ id: Schema.String, text: Schema.String, label: Schema.String })
export type LabeledExample = typeof LabeledExample.Type

export const LabeledExamples = PortType.records(
  "LabeledExamples",
  LabeledExample,
  "task examples: input text and gold output (a label verbalizer), the demonstration pool and the queries of ICL"
)
