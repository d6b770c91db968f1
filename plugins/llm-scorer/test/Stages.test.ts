import { describe, expect, it } from "vitest"
import { groupCandidates, Task } from "../src/index.js"

const ex = (id: string) => ({ id, text: `text ${id}`, label: `label ${id}` })

describe("groupCandidates", () => {
  const pool = new Map(["a", "b", "c", "d"].map((id) => [id, ex(id)]))
  const rec = (queryId: string, docId: string, rank: number) => ({ queryId, docId, rank, score: 10 - rank })

  it("keeps each query's best-ranked candidates, never the query itself", () => {
    const jobs = groupCandidates([ex("a")], pool, [rec("a", "c", 3), rec("a", "a", 1), rec("a", "b", 2), rec("a", "d", 4)], 2)
    expect(jobs[0]!.candidates.map((c) => c.id)).toEqual(["b", "c"])
  })

  it("reports candidates missing from the pool and queries left without candidates", () => {
    expect(() => groupCandidates([ex("a")], pool, [rec("a", "zz", 1)], 2)).toThrow(/'zz'.*pool/)
    expect(() => groupCandidates([ex("a"), ex("b")], pool, [rec("a", "b", 1)], 2)).toThrow(/1 of 2 queries have no candidates \(e.g. 'b'\)/)
  })
})

describe("Task.sample", () => {
  const all = Array.from({ length: 50 }, (_, i) => ex(String(i)))

  it("is a pure function of the seed, independent of input order", () => {
    const a = Task.sample(all, 10, 7)
    expect(Task.sample([...all].reverse(), 10, 7)).toEqual(a)
    expect(Task.sample(all, 10, 8)).not.toEqual(a)
  })

  it("leaves out excluded ids", () => {
    const first = Task.sample(all, 10, 7)
    const second = Task.sample(all, 10, 7, new Set(first.map((e) => e.id)))
    expect(second.some((e) => first.includes(e))).toBe(false)
  })
})
