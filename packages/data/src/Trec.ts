import { Effect, Schema, Stream } from "effect"
import { DataFormatError } from "./DataError.js"
import * as DataRoot from "./DataRoot.js"
import { preview, readLines, streamFrom } from "./internal/lines.js"

/** TREC question classification (Li & Roth 2002): `COARSE:fine question` per line, Latin-1 encoded. */
export const Split = Schema.Literals(["train", "test"])
export type Split = typeof Split.Type

export const Coarse = Schema.Literals(["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"])
export type Coarse = typeof Coarse.Type

export const Question = Schema.Struct({
  id: Schema.String,
  split: Split,
  coarse: Coarse,
  fine: Schema.String,
  text: Schema.String
})
export type Question = typeof Question.Type

const pattern = /^(ABBR|DESC|ENTY|HUM|LOC|NUM):(\S+) (.*\S.*)$/
const fileName = (split: Split) => (split === "train" ? "train_5500.label" : "TREC_10.label")

export const parseLine = (file: string, split: Split, text: string, no: number): Question => {
  const m = pattern.exec(text)
  if (!m) {
    throw new DataFormatError({ file, line: no, expected: "'COARSE:fine question' with COARSE one of ABBR, DESC, ENTY, HUM, LOC, NUM", found: preview(text) })
  }
  return { id: `trec-${split}-${no}`, split, coarse: m[1] as Coarse, fine: m[2]!, text: m[3]!.trim() }
}

export const stream = (split: Split, options?: DataRoot.LoadOptions) =>
  Stream.unwrap(
    Effect.map(DataRoot.file(options, "trec", fileName(split)), (file) =>
      streamFrom(file, async function* () {
        // The published train file is ISO-8859-1 (one soft hyphen); latin1 also reads the ASCII test file.
        for await (const { text, no } of readLines(file, "latin1")) {
          if (text.length > 0) yield parseLine(file, split, text, no)
        }
      }, { what: "question", allowEmpty: options?.allowEmpty })
    )
  )

export const load = (split: Split, options?: DataRoot.LoadOptions) => Stream.runCollect(stream(split, options))
