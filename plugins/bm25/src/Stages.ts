import { log, NonNegativeInt, Params, Ports, PositiveInt, progress, Stage, StageError, withDefault } from "@embedflow/core"
import { Effect, Schema } from "effect"
import * as Bm25 from "./Bm25.js"

/** Index settings shared by both stages. */
const indexParams = {
  k1: withDefault(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)), 1.2),
  b: withDefault(Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })), 0.75),
  stopWords: withDefault(Schema.Literals(["english", "none"]), "english"),
  stem: withDefault(Schema.Boolean, false)
}

const buildIndex = (
  corpus: ReadonlyArray<Ports.TextRecord>,
  p: { readonly k1: number; readonly b: number; readonly stopWords: "english" | "none"; readonly stem: boolean }
) =>
  Effect.try({
    try: () => Bm25.build(corpus, { k1: p.k1, b: p.b, tokenizer: { stopWords: p.stopWords, stem: p.stem } }),
    catch: (e) => new StageError({ message: `cannot index the corpus: ${(e as Error).message}`, cause: e })
  })

export const retrieve = Stage.make({
  name: "bm25/retrieve",
  version: "1",
  description: "BM25 top-k documents of a corpus for each query, as ranked candidates",
  params: Schema.Struct({
    ...indexParams,
    k: withDefault(PositiveInt, 100),
    includeText: Params.describe(withDefault(Schema.Boolean, true), "copy each document's text into its candidate record (what LLM scorers need)"),
    excludeSameId: Params.describe(withDefault(Schema.Boolean, false), "drop the document whose id equals the query's (when queries are drawn from the corpus)")
  }),
  inputs: { corpus: Ports.Texts, queries: Ports.Texts },
  outputs: { candidates: Ports.Candidates },
  // Each query's hits depend on the query and the whole corpus only: shards of queries, each indexing the corpus.
  shard: { over: "queries", items: 1024 },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const index = yield* buildIndex(inputs.corpus, params)
      const candidates: Array<Ports.Candidate> = []
      for (const [qi, q] of inputs.queries.entries()) {
        const self = params.excludeSameId ? index.position(q.id) : undefined
        const hits = index.search(q.text, params.k, self === undefined ? {} : { exclude: new Set([self]) })
        hits.forEach((h, r) => {
          const c = { queryId: q.id, docId: h.id, score: h.score, rank: r + 1 }
          candidates.push(params.includeText ? { ...c, text: inputs.corpus[h.index]!.text } : c)
        })
        yield* progress(qi + 1, inputs.queries.length, "queries")
      }
      return { candidates }
    })
})

export const hardNegatives = Stage.make({
  name: "bm25/hard-negatives",
  version: "1",
  description: "fills each (anchor, positive) with BM25 hard negatives: the best-scoring corpus texts other than the positive",
  params: Schema.Struct({
    ...indexParams,
    negatives: Params.describe(withDefault(PositiveInt, 1), "triples emitted per input pair, one per negative"),
    skip: Params.describe(withDefault(NonNegativeInt, 0), "top non-positive hits skipped first: the likeliest unlabeled positives")
  }),
  inputs: { pairs: Ports.Triples, corpus: Ports.Texts },
  optionalInputs: ["corpus"],
  outputs: { triples: Ports.Triples },
  run: (params, inputs) =>
    Effect.gen(function* () {
      // Without a corpus, negatives come from the other pairs' positives (in-dataset mining).
      const corpus = inputs.corpus ?? Array.from(new Set(inputs.pairs.map((p) => p.positive)), (text, i) => ({ id: `p${i}`, text }))
      const index = yield* buildIndex(corpus, params)
      const idsByText = new Map<string, Array<string>>()
      for (const d of corpus) {
        const ids = idsByText.get(d.text)
        if (ids) ids.push(d.id)
        else idsByText.set(d.text, [d.id])
      }
      const triples: Array<Ports.Triple> = []
      let without = 0
      for (const [i, p] of inputs.pairs.entries()) {
        // A corpus copy of the positive or of the anchor itself is not a negative.
        const positives = [...(idsByText.get(p.positive) ?? []), ...(idsByText.get(p.anchor) ?? [])]
        const hits = index.hardNegatives(p.anchor, positives, params.negatives, { skip: params.skip })
        if (hits.length === 0) without++
        for (const [r, h] of hits.entries()) {
          triples.push({
            anchor: p.anchor,
            positive: p.positive,
            negative: corpus[h.index]!.text,
            meta: { ...p.meta, negativeId: h.id, bm25Score: h.score, bm25Rank: params.skip + r + 1 }
          })
        }
        yield* progress(i + 1, inputs.pairs.length, "pairs")
      }
      if (without === inputs.pairs.length && without > 0) {
        return yield* new StageError({ message: `bm25/hard-negatives: no pair shares a term with any other corpus text (${without} pairs)` })
      }
      if (without > 0) yield* log(`${without} of ${inputs.pairs.length} pairs got no negative (no term shared with another text); they are left out`)
      return { triples }
    })
})
