import { DataFormatError } from "../DataError.js"
import type { Line } from "./lines.js"
import { preview } from "./lines.js"

export interface SmartRecord {
  /** The value after `.I`. */
  readonly id: string
  readonly line: number
  /** Field letter -> text; repeated fields (several `.A`) are joined with "; ". */
  readonly fields: Readonly<Record<string, string>>
}

const marker = /^\.([A-Z])(?:\s+(.*?))?\s*$/

/**
 * Records of the SMART layout used by Cranfield and CISI: `.I <id>` opens a record (ids increase),
 * a line holding only `.X` opens field X, whose text runs until the next marker. Bytes that are not
 * text (random data appended to the file) fail in readLines with file:line.
 */
export async function* parseSmart(file: string, lines: AsyncIterable<Line>, allowed: string): AsyncGenerator<SmartRecord> {
  // Each field letter maps to its occurrences, each a list of lines.
  let current: { id: string; line: number; fields: Record<string, Array<Array<string>>> } | undefined
  let field: Array<string> | undefined
  const finish = (): SmartRecord => {
    const fields: Record<string, string> = {}
    for (const [k, parts] of Object.entries(current!.fields)) fields[k] = parts.map((lines) => lines.join("\n").trim()).filter((p) => p !== "").join("; ")
    return { id: current!.id, line: current!.line, fields }
  }
  for await (const { text, no } of lines) {
    const m = marker.exec(text)
    if (m) {
      const letter = m[1]!
      if (!allowed.includes(letter)) {
        throw new DataFormatError({ file, line: no, expected: `a field marker among ${[...allowed].map((c) => "." + c).join(" ")}`, found: preview(text) })
      }
      if (letter === "I") {
        const id = (m[2] ?? "").trim()
        if (!/^\d+$/.test(id)) throw new DataFormatError({ file, line: no, expected: "'.I <number>'", found: preview(text) })
        // Records are numbered in increasing order in every published SMART file; a repeat or a
        // step back means pasted or duplicated data.
        if (current && Number(id) <= Number(current.id)) {
          throw new DataFormatError({ file, line: no, expected: `a record id greater than the previous one (.I ${current.id}, line ${current.line})`, found: preview(text) })
        }
        if (current) yield finish()
        current = { id, line: no, fields: {} }
        field = undefined
        continue
      }
      if (!current) throw new DataFormatError({ file, line: no, expected: "'.I <number>' before any field", found: preview(text) })
      field = []
      ;(current.fields[letter] ??= []).push(field)
      // Text on the marker line itself belongs to the field.
      if (m[2]) field.push(m[2])
      continue
    }
    if (!current || !field) {
      if (text.trim() === "") continue
      throw new DataFormatError({ file, line: no, expected: current ? "a field marker (.T, .W, …) before text" : "'.I <number>'", found: preview(text) })
    }
    field.push(text)
  }
  if (current) yield finish()
}
