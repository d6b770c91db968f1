import { Effect, Schema, Stream } from "effect"
import { DataFormatError } from "./DataError.js"
import * as DataRoot from "./DataRoot.js"
import { preview, readLines, streamFrom } from "./internal/lines.js"

/**
 * STS Benchmark (Cer et al. 2017). Files are tab-separated WITHOUT quoting: sentences contain bare
 * `"` characters that a CSV reader would swallow, which is how pandas-based loaders lose rows. Some
 * rows carry two license/source fields after sentence2; the official readme says they may be there,
 * so they are kept as `sources` and never merged into the sentences.
 */
export const Split = Schema.Literals(["train", "dev", "test"])
export type Split = typeof Split.Type

export const Pair = Schema.Struct({
  /** `sts-<split>-<line>`: the file's own id column repeats across genres. */
  id: Schema.String,
  split: Split,
  genre: Schema.String,
  file: Schema.String,
  year: Schema.String,
  sourceId: Schema.String,
  /** Gold similarity, 0 (unrelated) to 5 (equivalent). */
  score: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 5 })),
  sentence1: Schema.String,
  sentence2: Schema.String,
  sources: Schema.optionalKey(Schema.Array(Schema.String))
})
export type Pair = typeof Pair.Type

export const parseLine = (file: string, split: Split, text: string, no: number): Pair => {
  const f = text.split("\t")
  const fail = (expected: string, found: string) => new DataFormatError({ file, line: no, expected, found })
  if (f.length < 7) throw fail("7 tab-separated fields (genre, file, year, id, score, sentence1, sentence2)", `${f.length} field(s): ${preview(text)}`)
  const score = Number(f[4])
  if (f[4]!.trim() === "" || !Number.isFinite(score) || score < 0 || score > 5) throw fail("a score between 0 and 5 in field 5", preview(f[4]!))
  if (f[5]!.trim() === "" || f[6]!.trim() === "") throw fail("two non-empty sentences in fields 6 and 7", preview(text))
  const base = { id: `sts-${split}-${no}`, split, genre: f[0]!, file: f[1]!, year: f[2]!, sourceId: f[3]!, score, sentence1: f[5]!, sentence2: f[6]! }
  return f.length > 7 ? { ...base, sources: f.slice(7) } : base
}

const fileName = (split: Split) => `sts-${split}.csv`

export const stream = (split: Split, options?: DataRoot.LoadOptions) =>
  Stream.unwrap(
    Effect.map(DataRoot.file(options, "stsbenchmark", fileName(split)), (file) =>
      streamFrom(file, async function* () {
        for await (const { text, no } of readLines(file)) {
          if (text.length > 0) yield parseLine(file, split, text, no)
        }
      }, { what: "sentence pair", allowEmpty: options?.allowEmpty })
    )
  )

export const load = (split: Split, options?: DataRoot.LoadOptions) => Stream.runCollect(stream(split, options))
