import * as fs from "node:fs"
import * as readline from "node:readline"
import { Stream } from "effect"
import { DataFormatError, DataReadError } from "../DataError.js"

export interface Line {
  readonly text: string
  /** 1-based. */
  readonly no: number
}

const utf8 = new TextDecoder("utf-8", { fatal: true })
const lossy = new TextDecoder("utf-8")
const hex = (byte: number) => `0x${byte.toString(16).padStart(2, "0").toUpperCase()}`

/**
 * The text of one line's bytes (held one byte per char, as read in latin1), or a DataFormatError at
 * file:line when the bytes are not text: a NUL byte, invalid UTF-8 (UTF-8 files), or a C1 control
 * character (Latin-1 files). Random bytes appended to a file hit one of these within a few bytes.
 * Other control characters pass: the published sts-train.csv holds one U+0012.
 */
const decodeLine = (file: string, no: number, raw: string, encoding: "utf8" | "latin1"): string => {
  const nul = raw.indexOf("\u0000")
  if (nul >= 0) throw new DataFormatError({ file, line: no, expected: "text", found: `a NUL byte at byte ${nul + 1} (binary data?)` })
  if (encoding === "latin1") {
    const c1 = raw.search(/[\u0080-\u009f]/)
    if (c1 >= 0) throw new DataFormatError({ file, line: no, expected: "Latin-1 text", found: `control byte ${hex(raw.charCodeAt(c1))} at byte ${c1 + 1} (binary data?)` })
    return raw
  }
  // Pure ASCII lines (nearly all of them) need no decoding.
  if (!/[^\u0000-\u007f]/.test(raw)) return raw
  const bytes = Buffer.from(raw, "latin1")
  try {
    return utf8.decode(bytes)
  } catch {
    // Locate the first bad byte: the byte length of what decodes before the first replacement char.
    const text = lossy.decode(bytes)
    const at = Buffer.byteLength(text.slice(0, Math.max(0, text.indexOf("\ufffd"))), "utf8")
    throw new DataFormatError({ file, line: no, expected: "UTF-8 text", found: `invalid UTF-8 byte ${hex(bytes[at] ?? 0)} at byte ${at + 1} (binary data?)` })
  }
}

/**
 * Lines of a text file without their terminators (LF or CRLF), numbered from 1. Lines that are not
 * text in `encoding` (see decodeLine) fail with file:line.
 */
export async function* readLines(file: string, encoding: "utf8" | "latin1" = "utf8"): AsyncGenerator<Line> {
  // latin1 maps each byte to one char, so line splitting sees bytes and decoding happens per line
  // (LF and CR never occur inside a UTF-8 multi-byte sequence).
  const input = fs.createReadStream(file, { encoding: "latin1" })
  const rl = readline.createInterface({ input, crlfDelay: Infinity })
  let no = 0
  try {
    for await (const raw of rl) {
      no++
      yield { text: decodeLine(file, no, raw, encoding), no }
    }
  } finally {
    rl.close()
    input.destroy()
  }
}

/** Format errors pass through; anything else thrown while reading becomes a DataReadError naming the file. */
export const toDataError = (file: string) => (error: unknown): DataFormatError | DataReadError =>
  error instanceof DataFormatError || error instanceof DataReadError
    ? error
    : new DataReadError({
        path: file,
        message: `cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`,
        cause: error
      })

/** What a file must hold at least one of, unless the caller allows an empty data set. */
export interface RowRequirement {
  /** The record, singular ("sentence pair"), for the message. */
  readonly what: string
  readonly allowEmpty?: boolean | undefined
}

/** The error for a file that gave no records: names the file, and says whether it was empty. */
export const noRowsError = (file: string, what: string, detail?: string): DataFormatError => {
  let size: number | undefined
  try {
    size = fs.statSync(file).size
  } catch {
    size = undefined
  }
  const found = detail ?? (size === 0 ? "an empty file (0 bytes)" : `no ${what} in ${size ?? "?"} bytes (only blank lines or a header; truncated?)`)
  return new DataFormatError({ file, line: 1, expected: `at least one ${what}`, found })
}

async function* requireRows<A>(file: string, rows: RowRequirement, source: AsyncIterable<A>): AsyncGenerator<A> {
  let count = 0
  for await (const row of source) {
    count++
    yield row
  }
  if (count === 0 && rows.allowEmpty !== true) throw noRowsError(file, rows.what)
}

/**
 * A stream over an async generator whose failures are reported as data errors about `file`. With
 * `rows`, a file that yields no record fails (a 0-row data set is an error unless allowed).
 */
export const streamFrom = <A>(file: string, make: () => AsyncIterable<A>, rows?: RowRequirement): Stream.Stream<A, DataFormatError | DataReadError> =>
  Stream.suspend(() => Stream.fromAsyncIterable(rows === undefined ? make() : requireRows(file, rows, make()), toDataError(file)))

export const preview = (s: string, max = 80): string => JSON.stringify(s.length > max ? s.slice(0, max) + "…" : s)
