/** Port types of the PIT stages: QA pairs tied to their documents, and a training curriculum. */
import { PortType } from "@embedflow/core"
import { Schema } from "effect"
import { methods } from "./Curriculum.js"

export const QaPair = Schema.Struct({
  id: Schema.String,
  docId: Schema.String,
  relation: Schema.String,
  question: Schema.String,
  answer: Schema.String
})
export const QaPairs = PortType.records("QaPairs", QaPair, "questions with gold answers, each about one document (docId)")

const Segment = Schema.Struct({ text: Schema.String, scored: Schema.Boolean })
const Unit = Schema.Struct({ id: Schema.String, segments: Schema.Array(Segment) })
const Phase = Schema.Struct({ name: Schema.String, epochs: Schema.Int, units: Schema.Array(Unit) })
export const CurriculumSchema = Schema.Struct({ method: Schema.Literals([...methods, "pretraining"]), phases: Schema.Array(Phase) })
export const CurriculumPort = PortType.json(
  "Curriculum",
  CurriculumSchema,
  "ordered training phases (epochs, units of text segments; scored segments carry the LM loss)"
)
