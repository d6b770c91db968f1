/**
 * How well a trained model has memorized documents: the mean next-token loss over each document's
 * tokens (its perplexity is exp of that), and fact recall — the share of facts whose value the
 * model completes greedily when given the document text up to that value. The PIT paper's setting
 * trains the test documents until their perplexity is ≈ 1; this shows whether a curriculum got
 * there before asking whether the memorized facts can be retrieved by a question.
 */
import { type Gpt2Decoder, padBatch } from "@embedflow/tensor"
import { type Document, type QaPair } from "./Biographies.js"
import { greedyContinuations } from "./GreedyDecoding.js"
import { BOS, PAD, type WordTokenizer } from "./WordTokenizer.js"

export interface DocumentRecallReport {
  /** Mean loss per document token (nats); perplexity = exp(loss). */
  readonly loss: number
  readonly perplexity: number
  /** % of (document, fact) whose value is completed exactly from the preceding document text. */
  readonly factRecall: number
  readonly facts: number
}

export const documentLoss = (model: Gpt2Decoder, tokenizer: WordTokenizer, docs: ReadonlyArray<Document>, batchSize = 16): number => {
  let sum = 0, count = 0
  for (let start = 0; start < docs.length; start += batchSize) {
    const rows = docs.slice(start, start + batchSize).map((d) => [BOS, ...tokenizer.encode(d.text)].slice(0, model.config.maxPositions))
    const { loss, tokens } = model.languageModelLoss(padBatch(rows, { padId: PAD }))
    sum += loss * tokens
    count += tokens
  }
  return sum / count
}

/** Each fact (a QA pair's answer) as (its document's text before the value, the value). */
export const factPrompts = (docs: ReadonlyArray<Document>, facts: ReadonlyArray<QaPair>): Array<{ prompt: string; value: string }> => {
  const byId = new Map(docs.map((d) => [d.id, d.text]))
  return facts.map((q) => {
    const text = byId.get(q.docId)
    if (text === undefined) throw new RangeError(`factPrompts: QA "${q.id}" names document "${q.docId}", which is not given`)
    const at = text.indexOf(` ${q.answer} `)
    if (at < 0) throw new RangeError(`factPrompts: document "${q.docId}" does not state ${q.relation} = "${q.answer}"`)
    return { prompt: text.slice(0, at), value: q.answer }
  })
}

export const documentRecall = (model: Gpt2Decoder, tokenizer: WordTokenizer, docs: ReadonlyArray<Document>, qa: ReadonlyArray<QaPair>): DocumentRecallReport => {
  const loss = documentLoss(model, tokenizer, docs)
  const facts = factPrompts(docs, qa)
  const outputs = greedyContinuations(model, tokenizer, facts.map((f) => f.prompt), { maxNewTokens: 2, batchSize: 64 })
  // Values are 1–2 words; compare the first words of the continuation.
  const hits = facts.filter((f, i) => {
    const want = tokenizer.encode(f.value)
    return tokenizer.decode(tokenizer.encode(outputs[i]!).slice(0, want.length)) === tokenizer.decode(want)
  }).length
  return { loss, perplexity: Math.exp(loss), factRecall: (100 * hits) / facts.length, facts: facts.length }
}
