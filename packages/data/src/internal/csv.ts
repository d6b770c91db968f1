import { DataFormatError } from "../DataError.js"
import type { Line } from "./lines.js"

export interface CsvRecord {
  readonly fields: ReadonlyArray<string>
  /** Line on which the record starts. */
  readonly line: number
}

/**
 * RFC 4180 records from numbered lines: comma-separated, `"`-quoted fields with `""` escapes,
 * quoted fields may span lines (joined with "\n").
 */
export async function* parseCsv(file: string, lines: AsyncIterable<Line>): AsyncGenerator<CsvRecord> {
  let fields: Array<string> = []
  let field = ""
  let inQuotes = false
  let start = 0
  for await (const { text, no } of lines) {
    if (!inQuotes) {
      if (text.length === 0) continue
      start = no
    } else {
      field += "\n"
    }
    let i = 0
    // A field is quoted only when the quote opens it; a stray quote inside a bare field is an error.
    let fieldStart = !inQuotes && field.length === 0
    while (i < text.length) {
      const c = text[i]!
      if (inQuotes) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"'
            i += 2
            continue
          }
          inQuotes = false
          i++
          if (i < text.length && text[i] !== ",") {
            throw new DataFormatError({ file, line: no, expected: "a comma or end of line after a closing quote", found: JSON.stringify(text.slice(i, i + 20)) })
          }
          continue
        }
        field += c
        i++
      } else if (c === ",") {
        fields.push(field)
        field = ""
        fieldStart = true
        i++
      } else if (c === '"' && fieldStart) {
        inQuotes = true
        fieldStart = false
        i++
      } else if (c === '"') {
        throw new DataFormatError({ file, line: no, expected: "quotes only around whole fields (RFC 4180)", found: JSON.stringify(text.slice(Math.max(0, i - 20), i + 20)) })
      } else {
        field += c
        fieldStart = false
        i++
      }
    }
    if (!inQuotes) {
      fields.push(field)
      yield { fields, line: start }
      fields = []
      field = ""
    }
  }
  if (inQuotes) throw new DataFormatError({ file, line: start, expected: "a closing quote for the field opened here", found: "end of file" })
}
