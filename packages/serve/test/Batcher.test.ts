import { describe, expect, it } from "vitest"
import { Batcher, QueueFullError } from "../src/index.js"

/** A batcher over numbers whose "model" doubles them and records each batch. */
const doubling = (options: { maxBatchCost: number; maxWaitMs: number; maxQueued: number }, fail?: (xs: ReadonlyArray<number>) => boolean) => {
  const batches: Array<Array<number>> = []
  const batcher = new Batcher<number, number>(
    async (xs) => {
      batches.push([...xs])
      await new Promise((r) => setTimeout(r, 5))
      if (fail?.(xs)) throw new Error("model failed")
      return xs.map((x) => 2 * x)
    },
    (x) => x,
    options
  )
  return { batcher, batches }
}

describe("Batcher", () => {
  it("batches inputs of concurrent requests together and returns each request its own outputs in order", async () => {
    const { batcher, batches } = doubling({ maxBatchCost: 1000, maxWaitMs: 50, maxQueued: 100 })
    const results = await Promise.all([batcher.submit([1, 2]), batcher.submit([3]), batcher.submit([4, 5, 6])])
    expect(results).toEqual([[2, 4], [6], [8, 10, 12]])
    expect(batches).toEqual([[1, 2, 3, 4, 5, 6]])
  })

  it("caps a batch's cost, splitting a request across batches; later arrivals join while a batch runs", async () => {
    const { batcher, batches } = doubling({ maxBatchCost: 10, maxWaitMs: 0, maxQueued: 100 })
    const first = batcher.submit([4, 4, 4, 4])
    const second = batcher.submit([1, 1])
    expect(await Promise.all([first, second])).toEqual([[8, 8, 8, 8], [2, 2]])
    expect(batches).toEqual([[4, 4], [4, 4, 1, 1]])
    // One input costlier than the cap still runs, alone.
    expect(await batcher.submit([50])).toEqual([100])
  })

  it("refuses a request that would overfill the queue, synchronously, with a retry time", async () => {
    const { batcher } = doubling({ maxBatchCost: 1000, maxWaitMs: 30, maxQueued: 3 })
    const ok = batcher.submit([1, 2])
    expect(batcher.queued).toBe(2)
    let refused: unknown
    try {
      void batcher.submit([3, 4])
    } catch (e) {
      refused = e
    }
    expect(refused).toBeInstanceOf(QueueFullError)
    expect((refused as QueueFullError).retryAfterSeconds).toBeGreaterThanOrEqual(1)
    expect(await ok).toEqual([2, 4])
    expect(batcher.queued).toBe(0)
    expect(await batcher.submit([3, 4])).toEqual([6, 8])
  })

  it("a failing batch rejects the requests in it and the batcher keeps serving", async () => {
    const { batcher } = doubling({ maxBatchCost: 1000, maxWaitMs: 20, maxQueued: 100 }, (xs) => xs.includes(13))
    const [bad, alsoInBatch] = await Promise.allSettled([batcher.submit([13]), batcher.submit([1])])
    expect(bad.status).toBe("rejected")
    expect(alsoInBatch.status).toBe("rejected")
    expect(await batcher.submit([2])).toEqual([4])
    expect(batcher.busy).toBe(false)
  })
})
