/**
 * Whether a file's bytes are text worth indexing. Binary files saved under a text extension (an
 * ONNX model named .md, random bytes as .txt) would otherwise become chunks of mojibake.
 */

/** Share of bytes allowed to be invalid UTF-8 or control characters before a file counts as binary. */
export const MAX_NON_TEXT_RATIO = 0.01

const lossy = new TextDecoder("utf-8")

/** Why `bytes` is not UTF-8 text (a NUL byte; over 1% invalid UTF-8 or control bytes), or undefined when it is. */
export const binaryReason = (bytes: Uint8Array): string | undefined => {
  const nul = bytes.indexOf(0)
  if (nul >= 0) return `binary: NUL byte at offset ${nul}`
  if (bytes.length === 0) return undefined
  // Control bytes other than tab, LF, VT, FF, CR and ESC (ANSI colours in logs).
  let control = 0
  for (const b of bytes) if ((b < 0x20 && b !== 9 && b !== 10 && b !== 11 && b !== 12 && b !== 13 && b !== 27) || b === 0x7f) control++
  // Each invalid sequence decodes to one U+FFFD; subtract the U+FFFD the file really holds (EF BF BD).
  const text = lossy.decode(bytes)
  let replaced = 0
  for (let i = text.indexOf("\ufffd"); i >= 0; i = text.indexOf("\ufffd", i + 1)) replaced++
  let genuine = 0
  for (let i = bytes.indexOf(0xef); i >= 0 && i + 2 < bytes.length; i = bytes.indexOf(0xef, i + 1)) if (bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd) genuine++
  const invalid = Math.max(0, replaced - genuine)
  const pct = (n: number) => `${((100 * n) / bytes.length).toFixed(1)}%`
  if (invalid > MAX_NON_TEXT_RATIO * bytes.length) return `binary: ${pct(invalid)} of bytes are not valid UTF-8 (${invalid} invalid sequences); convert text files to UTF-8`
  if (control > MAX_NON_TEXT_RATIO * bytes.length) return `binary: ${pct(control)} of bytes are control characters`
  return undefined
}
