import { Effect, Schema, Stream } from "effect"
import { DataFormatError } from "./DataError.js"
import * as DataRoot from "./DataRoot.js"
import { parseCsv } from "./internal/csv.js"
import { preview, readLines, streamFrom } from "./internal/lines.js"

/**
 * AG News test split (Zhang et al. 2015): CSV with a `label,title,description` header, class 1-4.
 * Text is kept as published (it contains `\` where the crawl had line breaks and `#36;`-style entities).
 */
export const ClassName = Schema.Literals(["World", "Sports", "Business", "Sci/Tech"])
export type ClassName = typeof ClassName.Type
export const classNames: ReadonlyArray<ClassName> = ["World", "Sports", "Business", "Sci/Tech"]

export const Article = Schema.Struct({
  id: Schema.String,
  /** 1 World, 2 Sports, 3 Business, 4 Sci/Tech, as in the file. */
  label: Schema.Literals([1, 2, 3, 4]),
  className: ClassName,
  title: Schema.String,
  description: Schema.String
})
export type Article = typeof Article.Type

export const stream = (options?: DataRoot.LoadOptions) =>
  Stream.unwrap(
    Effect.map(DataRoot.file(options, "ag_news", "test.csv"), (file) =>
      streamFrom(file, async function* () {
        let header = true
        for await (const { fields, line } of parseCsv(file, readLines(file))) {
          if (header) {
            header = false
            if (fields.join(",") === "label,title,description") continue
          }
          const label = Number(fields[0])
          if (fields.length !== 3 || !(label === 1 || label === 2 || label === 3 || label === 4)) {
            throw new DataFormatError({ file, line, expected: "3 CSV fields: class 1-4, title, description", found: `${fields.length} field(s) starting ${preview(fields[0] ?? "")}` })
          }
          yield { id: `agnews-test-${line}`, label: label as 1 | 2 | 3 | 4, className: classNames[label - 1]!, title: fields[1]!, description: fields[2]! }
        }
      }, { what: "article", allowEmpty: options?.allowEmpty })
    )
  )

export const load = (options?: DataRoot.LoadOptions) => Stream.runCollect(stream(options))
