/**
 * Exact k-nearest-neighbour search on onnxruntime: a MatMul + TopK ONNX graph per corpus shard
 * (built with @embedflow/onnx's GraphBuilder), shard top-k lists merged in JS. It is the ground
 * truth that approximate faiss indexes are measured against, and runs on the CPU EP or, when the
 * installed onnxruntime has it, the CUDA EP.
 *
 *   const exact = await ExactSearch.create(corpus, 384, { metric: "ip" })
 *   const { labels, distances } = await exact.search(queries, 10)
 *   await exact.close()
 */
import { GraphBuilder, type Value } from "@embedflow/onnx"
import { Effect, type Scope } from "effect"
import * as ort from "onnxruntime-node"
import { FaissIndexError } from "./FaissIndexError.js"
import type { Metric } from "./IndexFactory.js"

export interface ExactSearchOptions {
  readonly metric: Metric
  /** Corpus rows per shard (default 32768): bounds the nq x shard score matrix. */
  readonly shardSize?: number
  /** Queries per session run (default 256). */
  readonly queryBatch?: number
  /** "cpu" (default) or "cuda" (fails with reason "Unavailable" when onnxruntime has no CUDA EP). */
  readonly executionProvider?: "cpu" | "cuda"
  /**
   * "initializer" (default): each shard is baked into its own session as a constant, which lets
   * onnxruntime pre-pack it for MatMul. "input": one session, shards fed as inputs on every run.
   */
  readonly corpusAs?: "initializer" | "input"
  readonly intraOpNumThreads?: number
}

export interface ExactResult {
  readonly nq: number
  readonly k: number
  /** nq x k; "ip": inner products (descending), "l2": squared distances (ascending). */
  readonly distances: Float32Array
  /** nq x k row positions in the corpus; -1 where the corpus has fewer than k rows. */
  readonly labels: Int32Array
}

interface Shard {
  readonly offset: number
  readonly rows: number
  readonly session: ort.InferenceSession
  /** Fed on every run when the corpus is a graph input. */
  readonly feeds: Record<string, ort.Tensor>
}

/**
 * scores = q · cT, for "l2" turned into 2 q·c - |c|² (same order as -|q-c|²); TopK picks the largest,
 * and "l2" reports |q|² - top = |q-c|², clamped at 0 against rounding.
 */
const buildGraph = (dim: number, metric: Metric, corpus?: { cT: Float32Array; norms: Float32Array; rows: number }): Uint8Array => {
  const g = new GraphBuilder(`exact_${metric}`)
  const q = g.input("q", "float32", ["nq", dim])
  const k = g.input("k", "int64", [1])
  const cT: Value = corpus ? g.initializer("cT", corpus.cT, [dim, corpus.rows]) : g.input("cT", "float32", [dim, "n"])
  const dot = g.op("MatMul", [q, cT])
  if (metric === "ip") {
    const [values, indices] = g.opMulti("TopK", [dot, k], 2, { axis: 1, largest: 1, sorted: 1 })
    g.output(values, { name: "distances", dataType: "float32" })
    g.output(indices, { name: "labels", dataType: "int64" })
  } else {
    const norms = corpus ? g.initializer("norms", corpus.norms, [corpus.rows]) : g.input("norms", "float32", ["n"])
    const score = g.op("Sub", [g.op("Mul", [dot, g.constant(new Float32Array([2]), { dims: [] })]), norms])
    const [values, indices] = g.opMulti("TopK", [score, k], 2, { axis: 1, largest: 1, sorted: 1 })
    const qn = g.op("ReduceSumSquare", [q], { axes: [1], keepdims: 1 }, { outputTypes: ["float32"] })
    g.output(g.op("Relu", [g.op("Sub", [qn, values])]), { name: "distances", dataType: "float32" })
    g.output(indices, { name: "labels", dataType: "int64" })
  }
  return g.toModel({ opset: 17 })
}

const fail = (reason: FaissIndexError["reason"], message: string, cause?: unknown): never => {
  throw new FaissIndexError({ reason, message, ...(cause === undefined ? {} : { cause }) })
}

export class ExactSearch {
  private constructor(
    readonly dim: number,
    readonly size: number,
    readonly metric: Metric,
    private readonly shards: ReadonlyArray<Shard>,
    private readonly queryBatch: number
  ) {}

  static async create(corpus: Float32Array, dim: number, options: ExactSearchOptions): Promise<ExactSearch> {
    if (!(corpus instanceof Float32Array)) fail("BadArgument", "ExactSearch: corpus must be a Float32Array")
    if (!Number.isSafeInteger(dim) || dim <= 0) fail("BadArgument", `ExactSearch: dim must be a positive integer, got ${dim}`)
    if (corpus.length % dim !== 0) {
      fail("DimensionMismatch", `ExactSearch: corpus of ${corpus.length} floats is not a whole number of ${dim}-dimensional vectors`)
    }
    const n = corpus.length / dim
    if (n === 0) fail("EmptyCorpus", "ExactSearch: the corpus is empty")
    const { metric } = options
    if (metric !== "ip" && metric !== "l2") fail("BadArgument", `ExactSearch: metric must be "ip" or "l2", got ${JSON.stringify(metric)}`)
    const shardSize = options.shardSize ?? 32768
    const queryBatch = options.queryBatch ?? 256
    for (const [name, v] of [["shardSize", shardSize], ["queryBatch", queryBatch]] as const) {
      if (!Number.isSafeInteger(v) || v <= 0) fail("BadArgument", `ExactSearch: ${name} must be a positive integer, got ${v}`)
    }
    const ep = options.executionProvider ?? "cpu"
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: [ep],
      graphOptimizationLevel: "all",
      ...(options.intraOpNumThreads !== undefined ? { intraOpNumThreads: options.intraOpNumThreads } : {})
    }
    const open = async (model: Uint8Array): Promise<ort.InferenceSession> => {
      try {
        return await ort.InferenceSession.create(model, sessionOptions)
      } catch (e) {
        const message = (e as Error).message
        if (ep !== "cpu") {
          return fail("Unavailable", `ExactSearch: execution provider "${ep}" is not available in this onnxruntime-node build: ${message}`, e)
        }
        return fail("Native", `ExactSearch: onnxruntime could not load the MatMul+TopK graph: ${message}`, e)
      }
    }
    const asInput = options.corpusAs === "input"
    const shared = asInput ? await open(buildGraph(dim, metric)) : undefined
    const shards: Array<Shard> = []
    try {
      for (let offset = 0; offset < n; offset += shardSize) {
        const rows = Math.min(shardSize, n - offset)
        // Transposed once per shard so every run is a plain [nq,d] x [d,rows] MatMul.
        const cT = new Float32Array(dim * rows)
        const norms = new Float32Array(rows)
        for (let r = 0; r < rows; r++) {
          const base = (offset + r) * dim
          let s = 0
          for (let j = 0; j < dim; j++) {
            const v = corpus[base + j]
            cT[j * rows + r] = v
            s += v * v
          }
          norms[r] = s
        }
        if (shared) {
          const feeds: Record<string, ort.Tensor> = { cT: new ort.Tensor("float32", cT, [dim, rows]) }
          if (metric === "l2") feeds.norms = new ort.Tensor("float32", norms, [rows])
          shards.push({ offset, rows, session: shared, feeds })
        } else {
          shards.push({ offset, rows, session: await open(buildGraph(dim, metric, { cT, norms, rows })), feeds: {} })
        }
      }
    } catch (e) {
      await Promise.all([...new Set(shards.map((s) => s.session))].map((s) => s.release()))
      throw e
    }
    return new ExactSearch(dim, n, metric, shards, queryBatch)
  }

  /** Exact top-k of each query (nq x dim); ties keep the lower corpus position first. */
  async search(queries: Float32Array, k: number): Promise<ExactResult> {
    if (!(queries instanceof Float32Array)) fail("BadArgument", "ExactSearch.search: queries must be a Float32Array")
    if (queries.length % this.dim !== 0) {
      fail(
        "DimensionMismatch",
        `ExactSearch.search: ${queries.length} floats is not a whole number of ${this.dim}-dimensional vectors (corpus dimension ${this.dim})`
      )
    }
    if (!Number.isSafeInteger(k) || k <= 0) fail("BadArgument", `ExactSearch.search: k must be a positive integer, got ${k}`)
    const nq = queries.length / this.dim
    const distances = new Float32Array(nq * k).fill(this.metric === "ip" ? -Infinity : Infinity)
    const labels = new Int32Array(nq * k).fill(-1)
    const better = this.metric === "ip" ? (a: number, b: number) => a > b : (a: number, b: number) => a < b
    for (let q0 = 0; q0 < nq; q0 += this.queryBatch) {
      const bq = Math.min(this.queryBatch, nq - q0)
      const qt = new ort.Tensor("float32", queries.subarray(q0 * this.dim, (q0 + bq) * this.dim), [bq, this.dim])
      for (const shard of this.shards) {
        const ks = Math.min(k, shard.rows)
        const out = await shard.session.run({ q: qt, k: new ort.Tensor("int64", BigInt64Array.of(BigInt(ks)), [1]), ...shard.feeds })
        const d = out.distances.data as Float32Array
        const l = out.labels.data as BigInt64Array
        // Insert each shard hit into the running sorted top-k of its query (k is small).
        for (let i = 0; i < bq; i++) {
          const row = (q0 + i) * k
          for (let j = 0; j < ks; j++) {
            const dist = d[i * ks + j]
            const label = shard.offset + Number(l[i * ks + j])
            let p = k - 1
            if (labels[row + p] !== -1 && !better(dist, distances[row + p])) continue
            while (p > 0 && (labels[row + p - 1] === -1 || better(dist, distances[row + p - 1]) ||
              (dist === distances[row + p - 1] && label < labels[row + p - 1]))) {
              distances[row + p] = distances[row + p - 1]
              labels[row + p] = labels[row + p - 1]
              p--
            }
            distances[row + p] = dist
            labels[row + p] = label
          }
        }
        for (const t of Object.values(out)) t.dispose()
      }
    }
    return { nq, k, distances, labels }
  }

  async close(): Promise<void> {
    await Promise.all([...new Set(this.shards.map((s) => s.session))].map((s) => s.release()))
  }

  /** An ExactSearch whose sessions are released when the scope closes. */
  static scoped(corpus: Float32Array, dim: number, options: ExactSearchOptions): Effect.Effect<ExactSearch, FaissIndexError, Scope.Scope> {
    return Effect.acquireRelease(
      Effect.tryPromise({
        try: () => ExactSearch.create(corpus, dim, options),
        catch: (e) => (e instanceof FaissIndexError ? e : new FaissIndexError({ reason: "Native", message: String(e), cause: e }))
      }),
      (s) => Effect.promise(() => s.close())
    )
  }
}
