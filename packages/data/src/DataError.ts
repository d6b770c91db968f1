import { Data } from "effect"

/** A row or block of a data file is not in the layout the loader expects. */
export class DataFormatError extends Data.TaggedError("DataFormatError")<{
  readonly file: string
  /** 1-based line number of the offending row (or the first line of a multi-line record). */
  readonly line: number
  readonly expected: string
  readonly found: string
}> {
  override get message(): string {
    return `${this.file}:${this.line}: expected ${this.expected}, found ${this.found}`
  }
}

/** A data file could not be read (missing, unreadable) or the data root could not be found. */
export class DataReadError extends Data.TaggedError("DataReadError")<{
  readonly path: string
  readonly message: string
  readonly cause?: unknown
}> {}

export type DataError = DataFormatError | DataReadError
