/**
 * A faiss index of float32 vectors keyed by string ids.
 *
 *   const index = FaissIndex.create({ dim: 384, factory: "HNSW32", metric: "ip", params: { efSearch: 128 } })
 *   index.add(ids, vectors)                 // vectors: Float32Array, ids.length * 384 floats, read in place
 *   const { ids: hits } = index.search(queries, 10)
 *   index.save("runs/index")                // folder: index.faiss + ids.json + meta.json, atomically
 *
 * faiss labels are positions in `ids` (vectors are added with sequential labels), so ids live beside
 * the index rather than inside it and survive save/load and shard merges unchanged.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"
import { Schema } from "effect"
import { FaissIndexError } from "./FaissIndexError.js"
import {
  type FactoryString,
  type IndexKind,
  type Metric,
  minTrainingRows,
  nativeDescription,
  needsTraining,
  parseFactory
} from "./IndexFactory.js"
import { native, type NativeIndex } from "./internal/native.js"

/** Search-time knobs, applied through faiss::ParameterSpace. */
export interface SearchParams {
  /** IVF: inverted lists visited per query (default 1). */
  readonly nprobe?: number
  /** HNSW: size of the dynamic candidate list (default 16). */
  readonly efSearch?: number
}

/** n x dim row-major floats, bare or with their dimension (core's `Vectors` fits). Read in place, never copied. */
export type VectorBatch = Float32Array | { readonly dim: number; readonly data: Float32Array }

export interface FaissIndexOptions {
  readonly dim: number
  readonly factory: FactoryString
  /** "ip": inner product (cosine on unit vectors), larger is closer; "l2": squared Euclidean, smaller is closer. */
  readonly metric: Metric
  readonly params?: SearchParams
}

export interface SearchResult {
  readonly nq: number
  readonly k: number
  /** nq x k row-major; "ip": inner products (descending), "l2": squared distances (ascending). */
  readonly distances: Float32Array
  /** nq x k positions into the index's ids; -1 where fewer than k vectors were found. */
  readonly labels: Int32Array
  /** Per query, the ids of the hits in rank order (missing hits omitted). */
  readonly ids: ReadonlyArray<ReadonlyArray<string>>
}

export const INDEX_FILE = "index.faiss"
export const IDS_FILE = "ids.json"
export const META_FILE = "meta.json"

const Meta = Schema.Struct({
  format: Schema.Literal("embedflow/faiss-index"),
  version: Schema.Literal(1),
  dim: Schema.Number,
  factory: Schema.String,
  metric: Schema.Literals(["ip", "l2"]),
  count: Schema.Number,
  params: Schema.Struct({ nprobe: Schema.optionalKey(Schema.Number), efSearch: Schema.optionalKey(Schema.Number) }),
  faiss: Schema.String
})
type Meta = typeof Meta.Type

const fail = (reason: FaissIndexError["reason"], message: string, cause?: unknown): never => {
  throw new FaissIndexError({ reason, message, ...(cause === undefined ? {} : { cause }) })
}

/** Runs a native call, naming the operation in the error. */
const call = <A>(what: string, f: () => A): A => {
  try {
    return f()
  } catch (e) {
    if (e instanceof FaissIndexError) throw e
    return fail("Native", `${what}: ${(e as Error).message}`, e)
  }
}

export class FaissIndex {
  private ids_: Array<string> = []
  private readonly positions = new Map<string, number>()
  private params_: SearchParams = {}

  private constructor(
    private readonly native_: NativeIndex,
    readonly dim: number,
    readonly factory: FactoryString,
    readonly metric: Metric,
    readonly kind: IndexKind
  ) {}

  static create(options: FaissIndexOptions): FaissIndex {
    const { dim, factory, metric } = options
    if (!Number.isSafeInteger(dim) || dim <= 0) fail("BadArgument", `dim must be a positive integer, got ${dim}`)
    if (metric !== "ip" && metric !== "l2") fail("BadArgument", `metric must be "ip" or "l2", got ${JSON.stringify(metric)}`)
    const kind = parseFactory(factory, dim)
    const ix = new FaissIndex(call("create", () => new (native().NativeIndex)(dim, nativeDescription(kind), metric)), dim, factory, metric, kind)
    if (options.params) ix.setParams(options.params)
    return ix
  }

  /** Number of vectors in the index. */
  get size(): number {
    return this.native_.ntotal
  }

  get isTrained(): boolean {
    return this.native_.isTrained
  }

  /** Ids in label order. */
  get ids(): ReadonlyArray<string> {
    return this.ids_
  }

  get params(): SearchParams {
    return this.params_
  }

  /** Sets search-time parameters; a parameter the index kind does not have is an error. */
  setParams(params: SearchParams): void {
    for (const [name, value] of Object.entries(params) as Array<[keyof SearchParams, number | undefined]>) {
      if (value === undefined) continue
      if (!Number.isSafeInteger(value) || value <= 0) fail("BadArgument", `${name} must be a positive integer, got ${value}`)
      const owner = name === "nprobe" ? ["IVFFlat", "IVFPQ"] : ["HNSW"]
      if (!owner.includes(this.kind._tag)) {
        fail("BadArgument", `${name} does not apply to a ${this.factory} index (it is a parameter of ${owner.join("/")})`)
      }
      call(`setParams ${name}=${value}`, () => this.native_.setParameter(name, value))
    }
    this.params_ = { ...this.params_, ...params }
  }

  /** Checks a batch and returns its rows; a batch is n x dim floats, bare or with its dimension. */
  private rows(what: string, batch: VectorBatch): { data: Float32Array; n: number } {
    const data = batch instanceof Float32Array ? batch : batch?.data
    if (!(data instanceof Float32Array)) {
      return fail("BadArgument", `${what}: expected a Float32Array or { dim, data: Float32Array }, got ${Object.prototype.toString.call(data ?? batch)}`)
    }
    if (!(batch instanceof Float32Array) && batch.dim !== this.dim) {
      fail("DimensionMismatch", `${what}: vectors have dimension ${batch.dim}, the index has dimension ${this.dim}`)
    }
    if (data.length % this.dim !== 0) {
      fail(
        "DimensionMismatch",
        `${what}: ${data.length} floats is not a whole number of ${this.dim}-dimensional vectors (index dimension ${this.dim})`
      )
    }
    return { data, n: data.length / this.dim }
  }

  /** Trains IVF quantizers (a no-op requirement for Flat/HNSW). `vectors` is n x dim. */
  train(vectors: VectorBatch): void {
    const { data, n } = this.rows("train", vectors)
    if (n === 0) fail("EmptyCorpus", `train: no training vectors given for ${this.factory}`)
    const min = minTrainingRows(this.kind)
    if (n < min) fail("BadArgument", `train: ${this.factory} needs at least ${min} training vectors, got ${n}`)
    call("train", () => this.native_.train(data))
  }

  /** Adds vectors (n x dim) under the given ids; ids must be new and unique. */
  add(ids: ReadonlyArray<string>, vectors: VectorBatch): void {
    const { data, n } = this.rows("add", vectors)
    if (ids.length !== n) {
      const implied = ids.length > 0 && data.length % ids.length === 0 ? `, i.e. vectors of dimension ${data.length / ids.length}` : ""
      fail("DimensionMismatch", `add: ${data.length} floats for ${ids.length} ids${implied}; the index has dimension ${this.dim}`)
    }
    if (!this.isTrained) fail("NotTrained", `add: ${this.factory} must be trained before adding vectors; call train() first`)
    const seen = new Set<string>()
    for (const id of ids) {
      if (typeof id !== "string") fail("BadArgument", `add: ids must be strings, got ${typeof id}`)
      if (this.positions.has(id) || seen.has(id)) fail("DuplicateId", `add: id "${id}" is already in the index`)
      seen.add(id)
    }
    call("add", () => this.native_.add(data))
    for (const id of ids) {
      this.positions.set(id, this.ids_.length)
      this.ids_.push(id)
    }
  }

  /** k nearest neighbours of each query (nq x dim). */
  search(queries: VectorBatch, k: number): SearchResult {
    const { data, n: nq } = this.rows("search", queries)
    if (!Number.isSafeInteger(k) || k <= 0) fail("BadArgument", `search: k must be a positive integer, got ${k}`)
    if (!this.isTrained) fail("NotTrained", `search: ${this.factory} must be trained before searching; call train() first`)
    if (this.size === 0) fail("EmptyCorpus", `search: the index is empty; add vectors first`)
    const r = call("search", () => this.native_.search(data, k))
    const labels = new Int32Array(nq * k)
    const ids: Array<Array<string>> = new Array(nq)
    for (let q = 0; q < nq; q++) {
      const row: Array<string> = []
      for (let j = q * k; j < (q + 1) * k; j++) {
        const label = Number(r.labels[j])
        labels[j] = label
        if (label >= 0) row.push(this.ids_[label])
      }
      ids[q] = row
    }
    return { nq, k, distances: r.distances, labels, ids }
  }

  /** The stored vectors [from, from + count) in label order (IVF-PQ returns their decoded approximations). */
  reconstruct(from = 0, count = this.size - from): Float32Array {
    return call("reconstruct", () => this.native_.reconstruct(from, count))
  }

  /** An empty index of the same kind that shares this one's training (IVF centroids, PQ codebooks), for building shards. */
  emptyShard(): FaissIndex {
    const ix = new FaissIndex(call("emptyShard", () => this.native_.cloneEmpty()), this.dim, this.factory, this.metric, this.kind)
    ix.setParams(this.params_)
    return ix
  }

  /**
   * Moves every vector of `other` into this index (other ends empty). Both must have the same
   * dimension, metric and factory; IVF shards must share their training (see `emptyShard`).
   */
  merge(other: FaissIndex): void {
    if (other === this) fail("BadArgument", "merge: cannot merge an index into itself")
    if (other.dim !== this.dim) fail("DimensionMismatch", `merge: shard dimension ${other.dim} differs from index dimension ${this.dim}`)
    if (other.metric !== this.metric || other.factory !== this.factory) {
      fail("Incompatible", `merge: shard is ${other.factory}/${other.metric}, index is ${this.factory}/${this.metric}`)
    }
    if (needsTraining(this.kind)) {
      if (!this.isTrained || !other.isTrained) fail("NotTrained", "merge: both IVF indexes must be trained")
      if (this.native_.trainedStateChecksum() !== other.native_.trainedStateChecksum()) {
        fail("Incompatible", "merge: IVF shards were trained separately; build shards with emptyShard() of one trained index")
      }
    }
    for (const id of other.ids_) if (this.positions.has(id)) fail("DuplicateId", `merge: id "${id}" is in both indexes`)
    call("merge", () => this.native_.mergeFrom(other.native_))
    for (const id of other.ids_) {
      this.positions.set(id, this.ids_.length)
      this.ids_.push(id)
    }
    other.ids_ = []
    other.positions.clear()
  }

  /**
   * Writes the index to the folder `dir` (index.faiss, ids.json, meta.json). Everything is written
   * to a temporary sibling folder first and renamed into place, so a failed save leaves the
   * previous artifact untouched.
   */
  save(dir: string): void {
    const target = resolve(dir)
    mkdirSync(dirname(target), { recursive: true })
    const tmp = mkdtempSync(join(dirname(target), `.${basename(target)}.tmp-`))
    try {
      call("save", () => this.native_.write(join(tmp, INDEX_FILE)))
      writeFileSync(join(tmp, IDS_FILE), JSON.stringify(this.ids_))
      const meta: Meta = {
        format: "embedflow/faiss-index",
        version: 1,
        dim: this.dim,
        factory: this.factory,
        metric: this.metric,
        count: this.size,
        params: this.params_,
        faiss: native().faissVersion
      }
      writeFileSync(join(tmp, META_FILE), JSON.stringify(meta, null, 2))
      if (existsSync(target)) {
        const old = `${tmp}-old`
        renameSync(target, old)
        renameSync(tmp, target)
        rmSync(old, { recursive: true, force: true })
      } else {
        renameSync(tmp, target)
      }
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true })
      if (e instanceof FaissIndexError) throw e
      fail("Io", `save ${target}: ${(e as Error).message}`, e)
    }
  }

  /** Reads a folder written by `save`; a missing, truncated or inconsistent file is a "Corrupt" error. */
  static load(dir: string): FaissIndex {
    const target = resolve(dir)
    const readJson = (file: string): unknown => {
      try {
        return JSON.parse(readFileSync(join(target, file), "utf8"))
      } catch (e) {
        return fail("Corrupt", `load ${join(target, file)}: ${(e as Error).message}`, e)
      }
    }
    let meta: Meta
    try {
      meta = Schema.decodeUnknownSync(Meta)(readJson(META_FILE))
    } catch (e) {
      if (e instanceof FaissIndexError) throw e
      return fail("Corrupt", `load ${join(target, META_FILE)}: not an embedflow/faiss-index v1 header: ${(e as Error).message}`, e)
    }
    const ids = readJson(IDS_FILE)
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")) fail("Corrupt", `load ${join(target, IDS_FILE)}: expected an array of string ids`)
    const kind = parseFactory(meta.factory, meta.dim)
    let nat: NativeIndex
    try {
      nat = native().NativeIndex.read(join(target, INDEX_FILE))
    } catch (e) {
      return fail("Corrupt", `load ${join(target, INDEX_FILE)}: ${(e as Error).message}`, e)
    }
    if (nat.dim !== meta.dim || nat.ntotal !== meta.count || (ids as Array<string>).length !== meta.count || nat.metric !== meta.metric) {
      fail(
        "Corrupt",
        `load ${target}: index file has ${nat.ntotal} vectors of dimension ${nat.dim} (${nat.metric}), ` +
          `meta.json says ${meta.count} x ${meta.dim} (${meta.metric}), ids.json has ${(ids as Array<string>).length} ids`
      )
    }
    const ix = new FaissIndex(nat, meta.dim, meta.factory as FactoryString, meta.metric, kind)
    for (const id of ids as Array<string>) {
      if (ix.positions.has(id)) fail("Corrupt", `load ${join(target, IDS_FILE)}: duplicate id "${id}"`)
      ix.positions.set(id, ix.ids_.length)
      ix.ids_.push(id)
    }
    ix.setParams(meta.params)
    return ix
  }
}

/** Sets the OpenMP thread count faiss uses for train/add/search in this process. */
export const setNumThreads = (n: number): void => native().setNumThreads(n)
