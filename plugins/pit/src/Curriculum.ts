/**
 * The training streams of the methods compared in Jiang et al. (2024), "Instruction-tuned Language
 * Models are Better Knowledge Learners", built from (train doc, train QA, test doc):
 *
 *   continued-pretraining  test docs
 *   instruction-tuning     train + test docs, then train QA           (continued pre-training + IT)
 *   mixed                  train docs + train QA + test docs, shuffled together
 *   pit                    each train doc's QA (seeded order) followed by the doc, then test docs   (Pre-Instruction-Tuning)
 *   pit-qa-only            train QA, then test docs
 *   pit-qa-then-docs       train QA, then train docs, then test docs
 *
 * A training unit is a list of segments; only `scored` segments contribute to the next-token loss
 * (whole documents; the answer of a QA pair, not its question).
 */
import { Rng } from "@embedflow/tensor"
import { type Document, type QaPair } from "./Biographies.js"

export const methods = ["continued-pretraining", "instruction-tuning", "mixed", "pit", "pit-qa-only", "pit-qa-then-docs"] as const
export type Method = (typeof methods)[number]

export interface Segment {
  readonly text: string
  readonly scored: boolean
}
export interface Unit {
  readonly id: string
  readonly segments: ReadonlyArray<Segment>
}
export interface Phase {
  readonly name: string
  readonly epochs: number
  readonly units: ReadonlyArray<Unit>
}
export interface Curriculum {
  /** The compared method, or "pretraining": the base model's documents-only stream (`pretrainingCurriculum`). */
  readonly method: Method | "pretraining"
  readonly phases: ReadonlyArray<Phase>
}

export interface CurriculumEpochs {
  /** Epochs over the documents to be learned (test docs; every doc phase of the baselines). */
  readonly documentEpochs: number
  /** Epochs of the first (pre-instruction-tuning / instruction-tuning) phases. */
  readonly instructionEpochs: number
  /** PIT's unit: a document's questions then the document (default), or the document then its questions. */
  readonly pitLayout?: PitLayout
  /**
   * Seed of the order of each document's questions in a PIT unit. Without it they follow the
   * relation order, the same for every person, and a model learns "a city question follows a
   * birth-date answer" — a cue that k-shot prompts (demonstrations about other people) break.
   */
  readonly qaOrderSeed?: number
}

export const pitLayouts = ["questions-first", "document-first"] as const
export type PitLayout = (typeof pitLayouts)[number]

/** The QA format shared by training and the k-shot prompt; the answer ends with the separator. */
export const questionPrefix = (question: string) => `Question : ${question} Answer :`
export const separator = "<sep>"
export const answerText = (answer: string) => `${answer} ${separator}`

export const documentUnit = (d: Document): Unit => ({ id: `doc:${d.id}`, segments: [{ text: `${d.text} ${separator}`, scored: true }] })
export const qaSegments = (q: QaPair): Array<Segment> => [
  { text: questionPrefix(q.question), scored: false },
  { text: answerText(q.answer), scored: true }
]
export const qaUnit = (q: QaPair): Unit => ({ id: `qa:${q.id}`, segments: qaSegments(q) })

/**
 * A document's questions followed by the document, in one training sequence: QA and documents
 * alternate, and the questions come first ("instruction-tunes on questions prior to training on
 * documents"), so under causal attention an answer cannot be copied from its document and must be
 * recalled; the document that follows is then encoded knowing how its facts are asked for.
 */
export const interleavedUnit = (d: Document, qa: ReadonlyArray<QaPair>, layout: PitLayout = "questions-first"): Unit =>
  layout === "questions-first"
    ? { id: `qa+doc:${d.id}`, segments: [...qa.flatMap(qaSegments), ...documentUnit(d).segments] }
    : { id: `doc+qa:${d.id}`, segments: [...documentUnit(d).segments, ...qa.flatMap(qaSegments)] }

export interface CurriculumInputs {
  readonly trainDocs: ReadonlyArray<Document>
  readonly trainQa: ReadonlyArray<QaPair>
  readonly testDocs: ReadonlyArray<Document>
}

/**
 * The stream that pre-trains the shared base model: other people's documents, and optionally QA
 * pairs (about some of them) shuffled in among them, as web text holds some question answering.
 */
export const pretrainingCurriculum = (docs: ReadonlyArray<Document>, epochs: number, qa: ReadonlyArray<QaPair> = []): Curriculum => ({
  method: "pretraining",
  phases: [{ name: qa.length > 0 ? "pretraining docs + QA" : "pretraining docs", epochs, units: [...docs.map(documentUnit), ...qa.map(qaUnit)] }]
})

export const buildCurriculum = (method: Method, data: CurriculumInputs, epochs: CurriculumEpochs): Curriculum => {
  const trainDocs = data.trainDocs.map(documentUnit)
  const trainQa = data.trainQa.map(qaUnit)
  const testDocs = data.testDocs.map(documentUnit)
  const learnTestDocs: Phase = { name: "continued pre-training (test docs)", epochs: epochs.documentEpochs, units: testDocs }
  switch (method) {
    case "continued-pretraining":
      return { method, phases: [learnTestDocs] }
    case "instruction-tuning":
      return {
        method,
        phases: [
          { name: "continued pre-training (train + test docs)", epochs: epochs.documentEpochs, units: [...trainDocs, ...testDocs] },
          { name: "instruction tuning (train QA)", epochs: epochs.instructionEpochs, units: trainQa }
        ]
      }
    case "mixed":
      return { method, phases: [{ name: "train docs + train QA + test docs", epochs: epochs.documentEpochs, units: [...trainDocs, ...trainQa, ...testDocs] }] }
    case "pit": {
      const byDoc = new Map<string, Array<QaPair>>()
      for (const q of data.trainQa) byDoc.set(q.docId, [...(byDoc.get(q.docId) ?? []), q])
      if (epochs.qaOrderSeed !== undefined) {
        const rng = new Rng(epochs.qaOrderSeed)
        for (const d of data.trainDocs) byDoc.set(d.id, rng.shuffle(byDoc.get(d.id) ?? []))
      }
      const missing = data.trainQa.filter((q) => !data.trainDocs.some((d) => d.id === q.docId))
      if (missing.length > 0) throw new RangeError(`buildCurriculum(pit): QA "${missing[0]!.id}" names document "${missing[0]!.docId}", which is not among the train docs`)
      return {
        method,
        phases: [
          { name: epochs.pitLayout === "document-first" ? "pre-instruction-tuning (a train doc, then its QA)" : "pre-instruction-tuning (train QA of a doc, then the doc)", epochs: epochs.instructionEpochs, units: data.trainDocs.map((d) => interleavedUnit(d, byDoc.get(d.id) ?? [], epochs.pitLayout)) },
          learnTestDocs
        ]
      }
    }
    case "pit-qa-only":
      return { method, phases: [{ name: "pre-instruction-tuning (train QA only)", epochs: epochs.instructionEpochs, units: trainQa }, learnTestDocs] }
    case "pit-qa-then-docs":
      return {
        method,
        phases: [
          { name: "pre-instruction-tuning (train QA)", epochs: epochs.instructionEpochs, units: trainQa },
          { name: "pre-instruction-tuning (train docs)", epochs: epochs.instructionEpochs, units: trainDocs },
          learnTestDocs
        ]
      }
  }
}
