import { Params, Ports, PortType, PositiveInt, progress, Stage, StageContext, StageError, withDefault } from "@embedflow/core"
import { Effect, Schema } from "effect"
import { join } from "node:path"
import { ExactSearch } from "./ExactSearch.js"
import { FaissIndex, type SearchParams } from "./FaissIndex.js"
import { FaissIndexError } from "./FaissIndexError.js"
import { type FactoryString, parseFactory } from "./IndexFactory.js"

/** A folder written by `FaissIndex.save` (index.faiss + ids.json + meta.json). */
export const FaissIndexFolder = PortType.directory("FaissIndex", "a faiss index folder: index.faiss, ids.json, meta.json")

const Metric = Schema.Literals(["ip", "l2"])
const searchParams = {
  nprobe: Schema.optionalKey(Params.describe(PositiveInt, "IVF lists visited per query; omitted: the value saved with the index")),
  efSearch: Schema.optionalKey(Params.describe(PositiveInt, "HNSW candidate list size; omitted: the value saved with the index"))
}
const BATCH = 4096

const toStageError = (what: string) => (e: unknown) =>
  new StageError({ message: `${what}: ${e instanceof Error ? e.message : String(e)}`, cause: e })

/** The vectors' ids, else their positions (`offset` + i in a shard of a larger input). */
const idsOf = (v: { readonly count: number; readonly ids?: ReadonlyArray<string> | undefined }, offset = 0): ReadonlyArray<string> =>
  v.ids ?? Array.from({ length: v.count }, (_, i) => String(offset + i))

const pickParams = (p: { readonly nprobe?: number; readonly efSearch?: number }): SearchParams => ({
  ...(p.nprobe !== undefined ? { nprobe: p.nprobe } : {}),
  ...(p.efSearch !== undefined ? { efSearch: p.efSearch } : {})
})

/** Candidates from nq x k results; "l2" scores are negated squared distances so higher is always closer. */
const candidates = (
  queryIds: ReadonlyArray<string>,
  q0: number,
  r: { readonly k: number; readonly distances: Float32Array; readonly labels: Int32Array },
  docIds: ReadonlyArray<string>,
  metric: "ip" | "l2",
  out: Array<Ports.Candidate>
) => {
  const rows = r.labels.length / r.k
  for (let q = 0; q < rows; q++) {
    let rank = 0
    for (let j = q * r.k; j < (q + 1) * r.k; j++) {
      if (r.labels[j] < 0) continue
      const d = r.distances[j]
      out.push({ queryId: queryIds[q0 + q], docId: docIds[r.labels[j]], score: metric === "ip" ? d : -d, rank: ++rank })
    }
  }
}

export const build = Stage.make({
  name: "faiss-index/build",
  version: "1",
  description: "builds a faiss index (Flat, IVF{n},Flat, HNSW{M}, IVF{n},PQ{m}) over embeddings and saves it as a folder",
  params: Schema.Struct({
    factory: withDefault(Schema.String, "HNSW32"),
    metric: withDefault(Metric, "ip"),
    ...searchParams
  }),
  inputs: { vectors: Ports.Embeddings },
  outputs: { index: FaissIndexFolder },
  run: (params, { vectors }) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const ids = idsOf(vectors)
      const index = yield* Effect.try({
        try: () => {
          parseFactory(params.factory, vectors.dim)
          const ix = FaissIndex.create({ dim: vectors.dim, factory: params.factory as FactoryString, metric: params.metric, params: pickParams(params) })
          if (vectors.count === 0) throw new FaissIndexError({ reason: "EmptyCorpus", message: "no vectors to index" })
          if (!ix.isTrained) ix.train(vectors.data)
          return ix
        },
        catch: toStageError("faiss-index/build")
      })
      for (let i = 0; i < vectors.count; i += BATCH) {
        const end = Math.min(vectors.count, i + BATCH)
        yield* Effect.try({
          try: () => index.add(ids.slice(i, end), vectors.data.subarray(i * vectors.dim, end * vectors.dim)),
          catch: toStageError("faiss-index/build")
        })
        yield* progress(end, vectors.count, "vectors")
      }
      const dir = join(ctx.scratchDir, "index")
      yield* Effect.try({ try: () => index.save(dir), catch: toStageError("faiss-index/build") })
      return { index: { path: dir } }
    })
})

export const search = Stage.make({
  name: "faiss-index/search",
  version: "1",
  description: "top-k documents of a faiss index for each query embedding, as ranked candidates",
  params: Schema.Struct({ k: withDefault(PositiveInt, 10), ...searchParams }),
  inputs: { index: FaissIndexFolder, queries: Ports.Embeddings },
  outputs: { candidates: Ports.Candidates },
  // Not sharded: faiss scores a flat index's queries with BLAS from 20 queries on and one by one below,
  // so a query's scores would depend on how many queries share its shard (last bits; test/Sharded.test.ts).
  run: (params, inputs) =>
    Effect.gen(function* () {
      const index = yield* Effect.try({
        try: () => {
          const ix = FaissIndex.load(inputs.index.path)
          ix.setParams(pickParams(params))
          return ix
        },
        catch: toStageError("faiss-index/search")
      })
      const { queries } = inputs
      const queryIds = idsOf(queries)
      const out: Array<Ports.Candidate> = []
      for (let q = 0; q < queries.count; q += BATCH) {
        const end = Math.min(queries.count, q + BATCH)
        const r = yield* Effect.try({
          try: () => index.search({ dim: queries.dim, data: queries.data.subarray(q * queries.dim, end * queries.dim) }, params.k),
          catch: toStageError("faiss-index/search")
        })
        candidates(queryIds, q, r, index.ids, index.metric, out)
        yield* progress(end, queries.count, "queries")
      }
      return { candidates: out }
    })
})

export const exactSearch = Stage.make({
  name: "faiss-index/exact-search",
  version: "1",
  description: "exact top-k (MatMul + TopK on onnxruntime, sharded over the corpus): ground truth for approximate indexes",
  params: Schema.Struct({
    k: withDefault(PositiveInt, 10),
    metric: withDefault(Metric, "ip"),
    executionProvider: withDefault(Schema.Literals(["cpu", "cuda"]), "cpu"),
    shardSize: withDefault(PositiveInt, 32768)
  }),
  inputs: { corpus: Ports.Embeddings, queries: Ports.Embeddings },
  outputs: { candidates: Ports.Candidates },
  // Each query's hits depend on the query and the corpus alone: shards of queries (test/Sharded.test.ts).
  shard: { over: "queries", items: 4096 },
  run: (params, { corpus, queries }) =>
    Effect.scoped(
      Effect.gen(function* () {
        const offset = (yield* StageContext).shard?.offset ?? 0
        if (corpus.dim !== queries.dim) {
          return yield* new StageError({ message: `faiss-index/exact-search: queries have dimension ${queries.dim}, the corpus has dimension ${corpus.dim}` })
        }
        const exact = yield* ExactSearch.scoped(corpus.data, corpus.dim, {
          metric: params.metric,
          executionProvider: params.executionProvider,
          shardSize: params.shardSize
        }).pipe(Effect.mapError(toStageError("faiss-index/exact-search")))
        const r = yield* Effect.tryPromise({ try: () => exact.search(queries.data, params.k), catch: toStageError("faiss-index/exact-search") })
        const out: Array<Ports.Candidate> = []
        candidates(idsOf(queries, offset), 0, r, idsOf(corpus), params.metric, out)
        return { candidates: out }
      })
    )
})
