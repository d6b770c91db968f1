/** Every text of a biography data set, for building one vocabulary shared by all compared methods. */
import { type Biographies } from "./Biographies.js"

export const vocabularyTexts = (data: Biographies): Array<string> => [
  ...[...data.trainDocs, ...data.testDocs, ...(data.pretrainDocs ?? [])].map((d) => d.text),
  ...[...data.trainQa, ...data.testQa].flatMap((q) => [q.question, q.answer]),
  "Question : Answer :"
]
