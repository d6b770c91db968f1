/**
 * Chunks, their unit-length embeddings and a search structure over them, saved as one folder:
 *
 *   index.json    format, encoder, chunking, index kind, dim, count, files
 *   chunks.jsonl  one chunk per line, in vector order
 *   vectors.f32   count x dim little-endian float32 (kept so "exact" search and rebuilds need no re-embedding)
 *   faiss/        the faiss index (kinds "flat" and "hnsw")
 *
 * Scores are inner products of unit vectors, i.e. cosine similarities.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"
import { FaissIndex } from "@embedflow/faiss-index"
import type { Chunk, ChunkOptions } from "./Chunker.js"
import { RagError } from "./RagError.js"

/** "flat": exact faiss IndexFlatIP; "hnsw": faiss HNSW32 (approximate, efSearch 64); "exact": a Float32Array scan without faiss. */
export type IndexKind = "flat" | "hnsw" | "exact"

export interface EncoderSpec {
  readonly model: string
  readonly pooling: "mean" | "cls" | "last-token" | "prompt-eol"
}

export interface IndexMeta {
  readonly format: "embedflow/rag-index"
  readonly version: 1
  readonly encoder: EncoderSpec
  readonly chunking: ChunkOptions
  readonly index: IndexKind
  readonly dim: number
  readonly count: number
  readonly files: ReadonlyArray<string>
}

export interface Hit {
  readonly chunk: Chunk
  readonly score: number
}

const FAISS_FACTORY = { flat: "Flat", hnsw: "HNSW32" } as const

export class ChunkIndex {
  private constructor(
    readonly meta: IndexMeta,
    readonly chunks: ReadonlyArray<Chunk>,
    readonly vectors: Float32Array,
    private readonly faiss: FaissIndex | undefined
  ) {}

  /** Builds the search structure over `vectors` (chunks.length x dim, unit rows). */
  static build(meta: Omit<IndexMeta, "format" | "version" | "count">, chunks: ReadonlyArray<Chunk>, vectors: Float32Array): ChunkIndex {
    if (chunks.length === 0) throw new RagError({ reason: "EmptyCorpus", message: "no chunks to index" })
    if (vectors.length !== chunks.length * meta.dim) {
      throw new RagError({ reason: "Index", message: `${vectors.length} floats for ${chunks.length} chunks of dimension ${meta.dim}` })
    }
    const full: IndexMeta = { format: "embedflow/rag-index", version: 1, ...meta, count: chunks.length }
    return new ChunkIndex(full, chunks, vectors, makeFaiss(full, chunks, vectors))
  }

  /** The k best chunks for one unit query vector, best first. */
  search(query: Float32Array, k: number): Array<Hit> {
    const dim = this.meta.dim
    if (query.length !== dim) throw new RagError({ reason: "Index", message: `query has dimension ${query.length}, the index has ${dim}` })
    const kk = Math.min(k, this.chunks.length)
    if (this.faiss) {
      const r = this.faiss.search(query, kk)
      const hits: Array<Hit> = []
      for (let j = 0; j < kk; j++) if (r.labels[j]! >= 0) hits.push({ chunk: this.chunks[r.labels[j]!]!, score: r.distances[j]! })
      return hits
    }
    return exactTopK(this.vectors, dim, query, kk).map(({ index, score }) => ({ chunk: this.chunks[index]!, score }))
  }

  /** Writes the folder atomically (a temporary sibling renamed into place). */
  save(dir: string): void {
    const target = resolve(dir)
    mkdirSync(dirname(target), { recursive: true })
    const tmp = mkdtempSync(join(dirname(target), `.${basename(target)}.tmp-`))
    try {
      writeFileSync(join(tmp, "index.json"), JSON.stringify(this.meta, null, 2))
      writeFileSync(join(tmp, "chunks.jsonl"), this.chunks.map((c) => JSON.stringify(c)).join("\n") + "\n")
      writeFileSync(join(tmp, "vectors.f32"), new Uint8Array(this.vectors.buffer, this.vectors.byteOffset, this.vectors.byteLength))
      this.faiss?.save(join(tmp, "faiss"))
      if (existsSync(target)) {
        const old = `${tmp}-old`
        renameSync(target, old)
        renameSync(tmp, target)
        rmSync(old, { recursive: true, force: true })
      } else renameSync(tmp, target)
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true })
      throw e instanceof RagError ? e : new RagError({ reason: "Index", message: `cannot save the index to ${target}: ${(e as Error).message}`, cause: e })
    }
  }

  static load(dir: string): ChunkIndex {
    const target = resolve(dir)
    if (!existsSync(join(target, "index.json"))) {
      throw new RagError({ reason: "NoIndex", message: `no index at ${target} (index.json missing); run \`cli.ts ingest <folder>\` first` })
    }
    try {
      const meta = JSON.parse(readFileSync(join(target, "index.json"), "utf8")) as IndexMeta
      if (meta.format !== "embedflow/rag-index" || meta.version !== 1) throw new Error(`unknown format ${meta.format} v${meta.version}`)
      const chunks = readFileSync(join(target, "chunks.jsonl"), "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as Chunk)
      const bytes = readFileSync(join(target, "vectors.f32"))
      const vectors = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
      if (chunks.length !== meta.count || vectors.length !== meta.count * meta.dim) {
        throw new Error(`index.json says ${meta.count} x ${meta.dim}, found ${chunks.length} chunks and ${vectors.length} floats`)
      }
      const faiss = meta.index === "exact" ? undefined : FaissIndex.load(join(target, "faiss"))
      if (faiss && faiss.size !== meta.count) throw new Error(`faiss index holds ${faiss.size} vectors, expected ${meta.count}`)
      return new ChunkIndex(meta, chunks, vectors, faiss)
    } catch (e) {
      throw new RagError({ reason: "Index", message: `cannot load the index at ${target}: ${(e as Error).message}; re-run ingest`, cause: e })
    }
  }
}

const makeFaiss = (meta: IndexMeta, chunks: ReadonlyArray<Chunk>, vectors: Float32Array): FaissIndex | undefined => {
  if (meta.index === "exact") return undefined
  const factory = FAISS_FACTORY[meta.index]
  if (factory === undefined) throw new RagError({ reason: "BadInput", message: `index must be "flat", "hnsw" or "exact", got ${JSON.stringify(meta.index)}` })
  try {
    const ix = FaissIndex.create({ dim: meta.dim, factory, metric: "ip", ...(meta.index === "hnsw" ? { params: { efSearch: 64 } } : {}) })
    ix.add(chunks.map((c) => c.id), vectors)
    return ix
  } catch (e) {
    throw new RagError({ reason: "Index", message: `faiss ${factory}: ${(e as Error).message} (or ingest with --index exact)`, cause: e })
  }
}

/** Exact top-k by inner product over row-major vectors; ties keep the lower index first. */
export const exactTopK = (vectors: Float32Array, dim: number, query: Float32Array, k: number): Array<{ index: number; score: number }> => {
  const n = vectors.length / dim
  const kk = Math.min(k, n)
  // The best kk so far, sorted descending; a row enters only when it beats the current last.
  const best: Array<{ index: number; score: number }> = []
  for (let i = 0; i < n; i++) {
    let s = 0
    const o = i * dim
    for (let d = 0; d < dim; d++) s += vectors[o + d]! * query[d]!
    if (best.length === kk && !(s > best[kk - 1]!.score)) continue
    let at = best.length === kk ? kk - 1 : best.length
    while (at > 0 && best[at - 1]!.score < s) {
      if (at < kk) best[at] = best[at - 1]!
      at--
    }
    best[at] = { index: i, score: s }
  }
  return best
}
