import * as fs from "node:fs"
import * as readline from "node:readline"
import { Stream } from "effect"
import { DataFormatError, DataReadError } from "../DataError.js"

export interface Line {
  readonly text: string
  /** 1-based. */
  readonly no: number
}

/** Lines of a text file without their terminators (LF or CRLF), numbered from 1. */
export async function* readLines(file: string, encoding: BufferEncoding = "utf8"): AsyncGenerator<Line> {
  const input = fs.createReadStream(file, { encoding })
  const rl = readline.createInterface({ input, crlfDelay: Infinity })
  let no = 0
  try {
    for await (const text of rl) yield { text, no: ++no }
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

/** A stream over an async generator whose failures are reported as data errors about `file`. */
export const streamFrom = <A>(file: string, make: () => AsyncIterable<A>): Stream.Stream<A, DataFormatError | DataReadError> =>
  Stream.suspend(() => Stream.fromAsyncIterable(make(), toDataError(file)))

export const preview = (s: string, max = 80): string => JSON.stringify(s.length > max ? s.slice(0, max) + "…" : s)
