import { Effect, Schema, Stream } from "effect"
import { DataFormatError } from "./DataError.js"
import * as DataRoot from "./DataRoot.js"
import { preview, readLines, streamFrom } from "./internal/lines.js"

/** SST-2 binary sentiment in the SentEval layout: `sentence<TAB>label`, label 0 (negative) or 1 (positive). */
export const Split = Schema.Literals(["train", "dev", "test"])
export type Split = typeof Split.Type

export const Sentence = Schema.Struct({
  id: Schema.String,
  split: Split,
  text: Schema.String,
  label: Schema.Literals([0, 1])
})
export type Sentence = typeof Sentence.Type

export const parseLine = (file: string, split: Split, text: string, no: number): Sentence => {
  const tab = text.lastIndexOf("\t")
  const sentence = tab < 0 ? "" : text.slice(0, tab).trim()
  const label = tab < 0 ? "" : text.slice(tab + 1).trim()
  if (tab < 0 || sentence === "" || (label !== "0" && label !== "1")) {
    throw new DataFormatError({ file, line: no, expected: "a sentence, a tab, then label 0 or 1", found: preview(text) })
  }
  return { id: `sst2-${split}-${no}`, split, text: sentence, label: label === "1" ? 1 : 0 }
}

export const stream = (split: Split, options?: DataRoot.LoadOptions) =>
  Stream.unwrap(
    Effect.map(DataRoot.file(options, "sst2", `sentiment-${split}`), (file) =>
      streamFrom(file, async function* () {
        for await (const { text, no } of readLines(file)) {
          if (text.length > 0) yield parseLine(file, split, text, no)
        }
      }, { what: "labelled sentence", allowEmpty: options?.allowEmpty })
    )
  )

export const load = (split: Split, options?: DataRoot.LoadOptions) => Stream.runCollect(stream(split, options))
