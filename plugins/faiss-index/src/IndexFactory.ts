import { FaissIndexError } from "./FaissIndexError.js"

/** The faiss index_factory descriptions this plugin supports and tests. */
export type FactoryString = "Flat" | `IVF${number},Flat` | `HNSW${number}` | `IVF${number},PQ${number}`

export type Metric = "ip" | "l2"

/** A parsed factory string. */
export type IndexKind =
  | { readonly _tag: "Flat" }
  | { readonly _tag: "IVFFlat"; readonly nlist: number }
  | { readonly _tag: "HNSW"; readonly m: number }
  | { readonly _tag: "IVFPQ"; readonly nlist: number; readonly m: number }

const positive = (s: string): number => {
  const n = Number(s)
  return Number.isSafeInteger(n) && n > 0 ? n : NaN
}

/**
 * Parses and checks a factory string against the dimension (PQ{m} needs dim % m == 0).
 * Fails with reason "BadFactory" naming the accepted forms.
 */
export const parseFactory = (factory: string, dim: number): IndexKind => {
  const bad = (why: string) =>
    new FaissIndexError({
      reason: "BadFactory",
      message: `factory "${factory}": ${why}; expected one of Flat, IVF{nlist},Flat, HNSW{M}, IVF{nlist},PQ{m}`
    })
  let kind: IndexKind | undefined
  let m: RegExpExecArray | null
  if (factory === "Flat") kind = { _tag: "Flat" }
  else if ((m = /^IVF(\d+),Flat$/.exec(factory))) kind = { _tag: "IVFFlat", nlist: positive(m[1]) }
  else if ((m = /^HNSW(\d+)$/.exec(factory))) kind = { _tag: "HNSW", m: positive(m[1]) }
  else if ((m = /^IVF(\d+),PQ(\d+)$/.exec(factory))) kind = { _tag: "IVFPQ", nlist: positive(m[1]), m: positive(m[2]) }
  if (kind === undefined) throw bad("unsupported form")
  for (const v of Object.values(kind)) if (typeof v === "number" && Number.isNaN(v)) throw bad("sizes must be positive integers")
  if (kind._tag === "IVFPQ" && dim % kind.m !== 0) throw bad(`PQ${kind.m} needs the dimension ${dim} to be a multiple of ${kind.m}`)
  return kind
}

/**
 * The description handed to faiss::index_factory. IVF-PQ gets "np": faiss otherwise runs polysemous
 * training (simulated annealing over PQ code orderings, minutes on a 4k-vector set) that only
 * polysemous Hamming filtering uses, which this plugin never enables.
 */
export const nativeDescription = (kind: IndexKind): string => {
  switch (kind._tag) {
    case "Flat":
      return "Flat"
    case "IVFFlat":
      return `IVF${kind.nlist},Flat`
    case "HNSW":
      return `HNSW${kind.m}`
    case "IVFPQ":
      return `IVF${kind.nlist},PQ${kind.m}np`
  }
}

/** Whether the index needs `train` before `add`/`search`. */
export const needsTraining = (kind: IndexKind): boolean => kind._tag === "IVFFlat" || kind._tag === "IVFPQ"

/** Minimum training set: faiss k-means needs at least one point per list (PQ: 256 per sub-quantizer centroid set). */
export const minTrainingRows = (kind: IndexKind): number =>
  kind._tag === "IVFFlat" ? kind.nlist : kind._tag === "IVFPQ" ? Math.max(kind.nlist, 256) : 0
