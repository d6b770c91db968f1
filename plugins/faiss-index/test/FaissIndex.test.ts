import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { FaissIndex, FaissIndexError, randomUnitVectors, recallAtK } from "../src/index.js"

const d = 64
const n = 4000
const nq = 100
const k = 10
const xb = randomUnitVectors(n, d, 1)
const xq = randomUnitVectors(nq, d, 2)
const ids = Array.from({ length: n }, (_, i) => `doc-${i}`)

const flat = FaissIndex.create({ dim: d, factory: "Flat", metric: "ip" })
flat.add(ids, xb)
const exact = flat.search(xq, k)

const tmp = mkdtempSync(join(tmpdir(), "faiss-index-test-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const error = (f: () => unknown): FaissIndexError => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(FaissIndexError)
    return e as FaissIndexError
  }
  throw new Error("expected a FaissIndexError")
}

describe("Flat", () => {
  it("returns the float64 brute-force neighbours with ids and inner products", () => {
    for (let q = 0; q < nq; q += 17) {
      const scores = Array.from({ length: n }, (_, i) => {
        let s = 0
        for (let j = 0; j < d; j++) s += xq[q * d + j] * xb[i * d + j]
        return [s, i] as const
      }).sort((a, b) => b[0] - a[0])
      expect(exact.ids[q]).toEqual(scores.slice(0, k).map(([, i]) => ids[i]))
      for (let j = 0; j < k; j++) expect(exact.distances[q * k + j]).toBeCloseTo(scores[j][0], 5)
    }
  })

  it("reads typed-array views in place: a subarray with an offset searches like a copy", () => {
    const view = xb.subarray(5 * d, 25 * d)
    const a = flat.search(view, 3)
    const b = flat.search(view.slice(), 3)
    expect(a.labels).toEqual(b.labels)
    expect(Array.from(a.labels.filter((_, i) => i % 3 === 0))).toEqual(Array.from({ length: 20 }, (_, i) => 5 + i))
    // core's { dim, data } batches are accepted too
    expect(flat.search({ dim: d, data: view }, 3).labels).toEqual(a.labels)
  })

  it("l2 reports squared distances in ascending order", () => {
    const l2 = FaissIndex.create({ dim: d, factory: "Flat", metric: "l2" })
    l2.add(ids, xb)
    const r = l2.search(xq.subarray(0, d), 5)
    // unit vectors: |q-x|^2 = 2 - 2 q.x, so the order matches inner product
    expect(r.ids[0]).toEqual(exact.ids[0].slice(0, 5))
    for (let j = 0; j < 5; j++) expect(r.distances[j]).toBeCloseTo(2 - 2 * exact.distances[j], 4)
  })
})

describe("search parameters", () => {
  it("efSearch lifts HNSW32 recall@10 from its default", () => {
    const hnsw = FaissIndex.create({ dim: d, factory: "HNSW32", metric: "ip" })
    hnsw.add(ids, xb)
    const base = recallAtK(hnsw.search(xq, k).labels, exact.labels, nq, k)
    hnsw.setParams({ efSearch: 128 })
    const tuned = recallAtK(hnsw.search(xq, k).labels, exact.labels, nq, k)
    expect(tuned).toBeGreaterThanOrEqual(0.97)
    expect(tuned).toBeGreaterThan(base + 0.1)
  })

  it("nprobe lifts IVF32,Flat recall@10 from its default", () => {
    const ivf = FaissIndex.create({ dim: d, factory: "IVF32,Flat", metric: "ip" })
    ivf.train(xb)
    ivf.add(ids, xb)
    const base = recallAtK(ivf.search(xq, k).labels, exact.labels, nq, k)
    ivf.setParams({ nprobe: 32 })
    expect(base).toBeLessThan(0.3)
    expect(recallAtK(ivf.search(xq, k).labels, exact.labels, nq, k)).toBe(1)
  })

  it("rejects a parameter the index kind does not have", () => {
    const hnsw = FaissIndex.create({ dim: d, factory: "HNSW16", metric: "ip" })
    expect(error(() => hnsw.setParams({ nprobe: 4 })).message).toMatch(/nprobe does not apply to a HNSW16 index/)
  })
})

describe("save / load", () => {
  it("round-trips vectors, ids and parameters through an artifact folder", () => {
    const ivf = FaissIndex.create({ dim: d, factory: "IVF16,PQ8", metric: "l2", params: { nprobe: 8 } })
    ivf.train(xb)
    ivf.add(ids, xb)
    const dir = join(tmp, "ivfpq")
    ivf.save(dir)
    const back = FaissIndex.load(dir)
    expect(back.size).toBe(n)
    expect(back.factory).toBe("IVF16,PQ8")
    expect(back.params).toEqual({ nprobe: 8 })
    expect(back.ids).toEqual(ids)
    const a = ivf.search(xq, k)
    const b = back.search(xq, k)
    expect(b.labels).toEqual(a.labels)
    expect(b.distances).toEqual(a.distances)
  })

  it("replaces an existing folder and leaves no temporary folders", () => {
    const dir = join(tmp, "replace")
    const small = FaissIndex.create({ dim: d, factory: "Flat", metric: "ip" })
    small.add(ids.slice(0, 10), xb.subarray(0, 10 * d))
    small.save(dir)
    flat.save(dir)
    expect(FaissIndex.load(dir).size).toBe(n)
    expect(readdirSync(tmp).filter((f) => f.includes(".tmp-"))).toEqual([])
  })

  it("a corrupt index file is an error and the folder is left as it was", () => {
    const dir = join(tmp, "corrupt")
    flat.save(dir)
    const file = join(dir, "index.faiss")
    const bytes = readFileSync(file)
    writeFileSync(file, bytes.subarray(0, bytes.length >> 1))
    const e = error(() => FaissIndex.load(dir))
    expect(e.reason).toBe("Corrupt")
    expect(e.message).toContain(file)
    expect(readFileSync(file).length).toBe(bytes.length >> 1)
    writeFileSync(file, "garbage")
    expect(error(() => FaissIndex.load(dir)).reason).toBe("Corrupt")
    expect(existsSync(join(dir, "ids.json"))).toBe(true)
  })

  it("a header that disagrees with the index file is an error", () => {
    const dir = join(tmp, "mismatch")
    flat.save(dir)
    writeFileSync(join(dir, "ids.json"), JSON.stringify(ids.slice(1)))
    expect(error(() => FaissIndex.load(dir)).message).toMatch(/ids.json has 3999 ids/)
  })
})

describe("merge", () => {
  const half = (n / 2) * d
  it("Flat shards merge into the same index as one build", () => {
    const a = FaissIndex.create({ dim: d, factory: "Flat", metric: "ip" })
    const b = FaissIndex.create({ dim: d, factory: "Flat", metric: "ip" })
    a.add(ids.slice(0, n / 2), xb.subarray(0, half))
    b.add(ids.slice(n / 2), xb.subarray(half))
    a.merge(b)
    expect(b.size).toBe(0)
    expect(a.ids).toEqual(ids)
    expect(a.search(xq, k).labels).toEqual(exact.labels)
  })

  it("IVF shards sharing one training merge; separately trained ones are refused", () => {
    const base = FaissIndex.create({ dim: d, factory: "IVF32,Flat", metric: "ip", params: { nprobe: 32 } })
    base.train(xb)
    const s1 = base.emptyShard()
    const s2 = base.emptyShard()
    s1.add(ids.slice(0, n / 2), xb.subarray(0, half))
    s2.add(ids.slice(n / 2), xb.subarray(half))
    s1.merge(s2)
    expect(s1.size).toBe(n)
    expect(s1.search(xq, k).ids).toEqual(exact.ids)

    const other = FaissIndex.create({ dim: d, factory: "IVF32,Flat", metric: "ip" })
    other.train(xb.subarray(0, half))
    expect(error(() => s1.merge(other)).message).toMatch(/trained separately/)
  })

  it("HNSW shards merge by re-adding the shard's vectors", () => {
    const a = FaissIndex.create({ dim: d, factory: "HNSW32", metric: "ip", params: { efSearch: 64 } })
    const b = FaissIndex.create({ dim: d, factory: "HNSW32", metric: "ip" })
    a.add(ids.slice(0, 100), xb.subarray(0, 100 * d))
    b.add(ids.slice(100, 200), xb.subarray(100 * d, 200 * d))
    a.merge(b)
    expect(a.size).toBe(200)
    expect(a.search(xb.subarray(150 * d, 151 * d), 1).ids[0]).toEqual(["doc-150"])
  })

  it("refuses duplicate ids and mismatched shards", () => {
    const a = FaissIndex.create({ dim: d, factory: "Flat", metric: "ip" })
    const b = FaissIndex.create({ dim: d, factory: "Flat", metric: "ip" })
    a.add(["x"], xb.subarray(0, d))
    b.add(["x"], xb.subarray(d, 2 * d))
    expect(error(() => a.merge(b)).reason).toBe("DuplicateId")
    const c = FaissIndex.create({ dim: 32, factory: "Flat", metric: "ip" })
    expect(error(() => a.merge(c)).message).toMatch(/dimension 32 differs from index dimension 64/)
    expect(error(() => a.merge(FaissIndex.create({ dim: d, factory: "Flat", metric: "l2" }))).reason).toBe("Incompatible")
  })
})

describe("bad input", () => {
  it("wrong vector dimension names both dimensions", () => {
    const ix = FaissIndex.create({ dim: d, factory: "Flat", metric: "ip" })
    const wrong = randomUnitVectors(10, 32, 3)
    const e = error(() => ix.add(ids.slice(0, 10), wrong))
    expect(e.reason).toBe("DimensionMismatch")
    expect(e.message).toMatch(/dimension 32/)
    expect(e.message).toMatch(/dimension 64/)
    expect(error(() => flat.search({ dim: 32, data: wrong }, 3)).message).toMatch(/dimension 32, the index has dimension 64/)
    expect(error(() => flat.search(new Float32Array(d + 1), 3)).message).toMatch(/65 floats .* 64-dimensional/)
  })

  it("search or add before train on IVF", () => {
    const ivf = FaissIndex.create({ dim: d, factory: "IVF16,Flat", metric: "l2" })
    expect(error(() => ivf.search(xq, k)).reason).toBe("NotTrained")
    expect(error(() => ivf.add(ids.slice(0, 1), xb.subarray(0, d))).message).toMatch(/must be trained before adding/)
    expect(error(() => ivf.train(xb.subarray(0, 4 * d))).message).toMatch(/needs at least 16 training vectors, got 4/)
  })

  it("empty corpus", () => {
    const ix = FaissIndex.create({ dim: d, factory: "HNSW32", metric: "ip" })
    expect(error(() => ix.search(xq, k)).reason).toBe("EmptyCorpus")
    const ivf = FaissIndex.create({ dim: d, factory: "IVF16,Flat", metric: "ip" })
    expect(error(() => ivf.train(new Float32Array(0))).reason).toBe("EmptyCorpus")
  })

  it("bad factory strings, plain arrays, duplicate ids, bad k", () => {
    expect(error(() => FaissIndex.create({ dim: d, factory: "LSH" as never, metric: "ip" })).message).toMatch(/expected one of Flat/)
    expect(error(() => FaissIndex.create({ dim: 30, factory: "IVF8,PQ8", metric: "ip" })).message).toMatch(/multiple of 8/)
    expect(error(() => flat.search(Array.from(xq) as never, k)).message).toMatch(/expected a Float32Array/)
    expect(error(() => flat.add(["doc-1"], xb.subarray(0, d))).reason).toBe("DuplicateId")
    expect(error(() => flat.search(xq, 0)).message).toMatch(/k must be a positive integer/)
  })
})
