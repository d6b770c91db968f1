/**
 * A padded batch of token sequences, the input of the encoder and decoder: ids [batch·seq]
 * row-major, the attention mask (1 = real token, 0 = padding), and optional token types and
 * explicit position ids.
 */
export interface TokenBatch {
  readonly batch: number
  readonly seqLen: number
  readonly inputIds: Int32Array
  /** batch·seq bytes, 1 = real token. undefined = no padding. */
  readonly attentionMask?: Uint8Array | undefined
  readonly tokenTypeIds?: Int32Array | undefined
  readonly positionIds?: Int32Array | undefined
}

export interface PadOptions {
  /** Id written into padded slots (default 0). */
  readonly padId?: number
  /** "right" (default, encoders) or "left" (decoders generating from the end). */
  readonly side?: "left" | "right"
  /** Pad to at least this length (default: the longest sequence). */
  readonly length?: number
}

/** Pads token id sequences into a TokenBatch with the matching attention mask. */
export const padBatch = (sequences: ReadonlyArray<ArrayLike<number>>, options: PadOptions = {}): TokenBatch => {
  if (sequences.length === 0) throw new RangeError("padBatch: no sequences")
  const S = Math.max(options.length ?? 0, ...sequences.map((s) => s.length))
  if (S === 0) throw new RangeError("padBatch: every sequence is empty")
  const B = sequences.length
  const inputIds = new Int32Array(B * S).fill(options.padId ?? 0)
  const attentionMask = new Uint8Array(B * S)
  sequences.forEach((seq, b) => {
    const start = options.side === "left" ? S - seq.length : 0
    for (let t = 0; t < seq.length; t++) {
      inputIds[b * S + start + t] = seq[t]
      attentionMask[b * S + start + t] = 1
    }
  })
  return { batch: B, seqLen: S, inputIds, attentionMask }
}

/** Rows [start, end) of a batch (GradCache chunks). */
export const sliceBatch = (x: TokenBatch, start: number, end: number): TokenBatch => {
  const S = x.seqLen
  const cut = <A extends Int32Array | Uint8Array>(a: A | undefined): A | undefined => a?.subarray(start * S, end * S) as A | undefined
  return {
    batch: end - start,
    seqLen: S,
    inputIds: cut(x.inputIds)!,
    attentionMask: cut(x.attentionMask),
    tokenTypeIds: cut(x.tokenTypeIds),
    positionIds: cut(x.positionIds)
  }
}

export const checkBatch = (x: TokenBatch, what: string): void => {
  const n = x.batch * x.seqLen
  if (!(Number.isInteger(x.batch) && x.batch > 0 && Number.isInteger(x.seqLen) && x.seqLen > 0)) {
    throw new RangeError(`${what}: batch ${x.batch} x ${x.seqLen} must be positive integers`)
  }
  for (const [name, a] of [["inputIds", x.inputIds], ["attentionMask", x.attentionMask], ["tokenTypeIds", x.tokenTypeIds], ["positionIds", x.positionIds]] as const) {
    if (a !== undefined && a.length !== n) throw new RangeError(`${what}: ${name} has ${a.length} entries, expected ${x.batch} x ${x.seqLen} = ${n}`)
  }
}
