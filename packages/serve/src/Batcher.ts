/**
 * Dynamic batching across requests: each request's inputs join one queue per model; a worker
 * takes inputs from the front until the batch holds `maxBatchCost` (tokens) (a request may be split across
 * batches) and runs them as one model call, one batch at a time. While a batch runs, arrivals
 * accumulate, so load alone makes batches bigger; an idle worker starts once the requests received
 * in the current turn of the event loop have joined, or waits up to `maxWaitMs` after the oldest
 * arrival for company when that is set. The queue is bounded: a request that would take it past
 * `maxQueued` inputs is refused at once (the server answers 429).
 */

export interface BatcherOptions {
  /** Upper bound on the summed cost of one batch (tokens for embeddings, pairs for rerank); a single input always fits. */
  readonly maxBatchCost: number
  /** How long an idle worker waits after the oldest arrival before running a partial batch. */
  readonly maxWaitMs: number
  /** Most inputs waiting (not yet in a running batch). */
  readonly maxQueued: number
}

export interface BatchObserver {
  readonly onBatch?: (inputs: number, cost: number) => void
}

/** The queue is full: the caller should retry after `retryAfterSeconds`. */
export class QueueFullError extends Error {
  constructor(readonly queued: number, readonly maxQueued: number, readonly retryAfterSeconds: number) {
    super(`the queue holds ${queued} of at most ${maxQueued} inputs; retry after ${retryAfterSeconds} s`)
  }
}

interface Job<O> {
  readonly results: Array<O>
  remaining: number
  failed: boolean
  readonly resolve: (results: Array<O>) => void
  readonly reject: (error: unknown) => void
}

interface Entry<I, O> {
  readonly input: I
  readonly cost: number
  readonly job: Job<O>
  readonly index: number
  readonly at: number
}

export class Batcher<I, O> {
  private queue: Array<Entry<I, O>> = []
  private head = 0
  private running = false
  private timer: ReturnType<typeof setTimeout> | undefined
  private immediate: ReturnType<typeof setImmediate> | undefined
  /** Inputs per second over recent batches, for Retry-After. */
  private rate = 0

  constructor(
    private readonly run: (inputs: ReadonlyArray<I>) => Promise<ReadonlyArray<O>>,
    private readonly costOf: (input: I) => number,
    readonly options: BatcherOptions,
    private readonly observer: BatchObserver = {}
  ) {}

  /** Inputs waiting (not in the running batch). */
  get queued(): number {
    return this.queue.length - this.head
  }

  /** True while a batch runs or inputs wait. */
  get busy(): boolean {
    return this.running || this.queued > 0
  }

  /** Queues one request's inputs; resolves with their outputs in order. Throws QueueFullError synchronously when full. */
  submit(inputs: ReadonlyArray<I>): Promise<Array<O>> {
    if (inputs.length === 0) return Promise.resolve([])
    if (this.queued + inputs.length > this.options.maxQueued) {
      const seconds = this.rate > 0 ? Math.ceil((this.queued + inputs.length) / this.rate) : 1
      throw new QueueFullError(this.queued, this.options.maxQueued, Math.max(1, seconds))
    }
    return new Promise<Array<O>>((resolve, reject) => {
      const job: Job<O> = { results: new Array<O>(inputs.length), remaining: inputs.length, failed: false, resolve, reject }
      const at = performance.now()
      inputs.forEach((input, index) => this.queue.push({ input, cost: Math.max(1, this.costOf(input)), job, index, at }))
      this.schedule()
    })
  }

  /**
   * Starts the next batch when the worker is idle: at the earliest in the event loop's check phase
   * (setImmediate), so every request already received in this turn of the loop joins it, or after
   * the rest of `maxWaitMs` since the oldest arrival, unless the queue already fills a batch.
   */
  private schedule(): void {
    if (this.running || this.queued === 0) return
    let pending = 0
    for (let i = this.head; i < this.queue.length && pending < this.options.maxBatchCost; i++) pending += this.queue[i]!.cost
    const waited = performance.now() - this.queue[this.head]!.at
    const wait = pending >= this.options.maxBatchCost ? 0 : Math.max(0, this.options.maxWaitMs - waited)
    if (this.timer !== undefined) {
      if (wait > 0) return
      clearTimeout(this.timer)
      this.timer = undefined
    }
    if (this.immediate !== undefined) return
    const go = () => {
      this.timer = undefined
      this.immediate = undefined
      if (!this.running && this.queued > 0) void this.runBatch()
    }
    if (wait > 0) this.timer = setTimeout(go, wait)
    else this.immediate = setImmediate(go)
  }

  private async runBatch(): Promise<void> {
    this.running = true
    const batch: Array<Entry<I, O>> = []
    let cost = 0
    while (this.head < this.queue.length) {
      const e = this.queue[this.head]!
      if (batch.length > 0 && cost + e.cost > this.options.maxBatchCost) break
      batch.push(e)
      cost += e.cost
      this.head++
    }
    // Drop the taken entries (they hold texts and, through their jobs, result buffers); the queue
    // holds at most maxQueued entries, so this costs little per batch.
    this.queue.splice(0, this.head)
    this.head = 0
    this.observer.onBatch?.(batch.length, cost)
    const started = performance.now()
    try {
      const outputs = await this.run(batch.map((e) => e.input))
      if (outputs.length !== batch.length) throw new Error(`a batch of ${batch.length} inputs returned ${outputs.length} outputs`)
      const seconds = Math.max((performance.now() - started) / 1000, 1e-6)
      this.rate = this.rate === 0 ? batch.length / seconds : 0.8 * this.rate + 0.2 * (batch.length / seconds)
      batch.forEach((e, i) => {
        if (e.job.failed) return
        e.job.results[e.index] = outputs[i]!
        if (--e.job.remaining === 0) e.job.resolve(e.job.results)
      })
    } catch (error) {
      for (const e of batch) {
        if (!e.job.failed) {
          e.job.failed = true
          e.job.reject(error)
        }
      }
    } finally {
      this.running = false
      this.schedule()
    }
  }
}
