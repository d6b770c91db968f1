// The stages cluster.bench.ts runs: the Cranfield and CISI abstracts repeated `copies` times, and a
// sharded hashed bag-of-words embedding of them (256-d, L2-normalised; FNV-1a token hashes with a
// seeded sign), cheap per item so that the bench measures what a shard costs to move, not to compute.
// A runner process imports this module by its file URL, as it would a plugin package.
import { IrCollection } from "@embedflow/data"
import { deriveSeed, Plugin, PortType, Stage, StageContext, type Vectors } from "@embedflow/core"
import { Effect, Schema } from "effect"

const Texts = PortType.records("BenchTexts", Schema.Struct({ id: Schema.String, text: Schema.String }))
const Vecs = PortType.vectors("BenchVectors")
const DIM = 256

const corpus = Stage.make({
  name: "bench-cluster/corpus",
  version: "1",
  description: "Cranfield and CISI abstracts, repeated",
  params: Schema.Struct({ copies: Schema.Number }),
  inputs: {},
  outputs: { texts: Texts },
  run: ({ copies }) =>
    Effect.gen(function* () {
      const docs = [...(yield* IrCollection.load("cranfield")).documents, ...(yield* IrCollection.load("cisi")).documents]
      return { texts: Array.from({ length: copies }, (_, c) => docs.map((d) => ({ id: `${c}:${d.id}`, text: `${d.title} ${d.text}` }))).flat() }
    }).pipe(Effect.orDie)
})

const fnv1a = (s: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return h >>> 0
}

const embed = Stage.make({
  name: "bench-cluster/embed",
  version: "1",
  description: "hashed bag-of-words vectors",
  params: Schema.Struct({}),
  inputs: { texts: Texts },
  outputs: { vectors: Vecs },
  shard: { over: "texts", items: 256 },
  run: (_, { texts }) =>
    Effect.gen(function* () {
      const { seed } = yield* StageContext
      const salt = deriveSeed(seed, "sign")
      const data = new Float32Array(texts.length * DIM)
      texts.forEach((t, i) => {
        const row = data.subarray(i * DIM, (i + 1) * DIM)
        for (const token of t.text.toLowerCase().split(/[^a-z0-9]+/)) {
          if (token === "") continue
          const h = fnv1a(token)
          row[h % DIM]! += (h ^ salt) & 0x80000000 ? -1 : 1
        }
        let norm = 0
        for (const v of row) norm += v * v
        if (norm > 0) for (let j = 0; j < DIM; j++) row[j]! /= Math.sqrt(norm)
      })
      return { vectors: { dim: DIM, count: texts.length, data, ids: texts.map((t) => t.id) } satisfies Vectors }
    })
})

export const plugin = Plugin.make({ name: "bench-cluster", version: "1", description: "cluster bench stages", stages: [corpus, embed] })
