/**
 * Greedy decoding with the trained decoder: each step runs the whole (right-padded) batch of
 * prompts and takes the argmax of the next-token logits at each row's last real token, until
 * `<sep>` (or a stop word) or `maxNewTokens`. No key/value cache: prompts here are a few hundred
 * tokens at most.
 */
import { type Gpt2Decoder, matrix, padBatch } from "@embedflow/tensor"
import { BOS, PAD, SEP, UNK, type WordTokenizer } from "./WordTokenizer.js"

export interface GreedyOptions {
  readonly maxNewTokens: number
  readonly batchSize: number
  /** Words that end a continuation (not included in it); `<sep>` always does. */
  readonly stopWords?: ReadonlyArray<string>
}

/** The generated continuation of each prompt (tokens before `<sep>` or a stop word, joined by spaces). */
export const greedyContinuations = (model: Gpt2Decoder, tokenizer: WordTokenizer, prompts: ReadonlyArray<string>, options: GreedyOptions): Array<string> => {
  const H = model.config.hiddenSize
  const room = model.config.maxPositions - options.maxNewTokens
  const outputs: Array<string> = []
  const stops = new Set([SEP, ...(options.stopWords ?? []).flatMap((w) => tokenizer.encode(w)).filter((id) => id !== UNK)])
  for (let start = 0; start < prompts.length; start += options.batchSize) {
    const rows = prompts.slice(start, start + options.batchSize).map((p) => {
      const ids = [BOS, ...tokenizer.encode(p)]
      // Keep the end of an over-long prompt: the question being asked is last.
      return { ids: ids.length > room ? ids.slice(ids.length - room) : ids, generated: [] as Array<number>, done: false }
    })
    for (let t = 0; t < options.maxNewTokens && rows.some((r) => !r.done); t++) {
      const active = rows.filter((r) => !r.done)
      const batch = padBatch(active.map((r) => r.ids), { padId: PAD })
      const hidden = model.forward(batch)
      const last = matrix(active.length, H)
      active.forEach((r, b) => last.data.set(hidden.data.subarray((b * batch.seqLen + r.ids.length - 1) * H, (b * batch.seqLen + r.ids.length) * H), b * H))
      const logits = model.logits(last)
      active.forEach((r, b) => {
        let best = 0
        for (let v = 1; v < logits.cols; v++) if (logits.data[b * logits.cols + v] > logits.data[b * logits.cols + best]) best = v
        if (stops.has(best)) r.done = true
        else {
          r.generated.push(best)
          r.ids.push(best)
        }
      })
    }
    for (const r of rows) outputs.push(tokenizer.decode(r.generated))
  }
  return outputs
}
