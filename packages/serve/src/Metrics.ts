/**
 * The server's Prometheus metrics (text exposition format 0.0.4): request counts by route and
 * status, request latency, batch sizes in texts and tokens, queue depth, and tokens embedded.
 */

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')
const labelText = (labels: Readonly<Record<string, string>>) => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`)
  return parts.length > 0 ? `{${parts.join(",")}}` : ""
}
const keyOf = (labels: Readonly<Record<string, string>>) => JSON.stringify(Object.entries(labels).sort())

abstract class Metric {
  constructor(readonly name: string, readonly help: string, readonly type: "counter" | "gauge" | "histogram") {}
  abstract lines(): Array<string>
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`, ...this.lines()].join("\n")
  }
}

export class Counter extends Metric {
  private readonly values = new Map<string, { labels: Record<string, string>; value: number }>()
  constructor(name: string, help: string) {
    super(name, help, "counter")
  }
  inc(labels: Record<string, string> = {}, by = 1): void {
    const k = keyOf(labels)
    const v = this.values.get(k)
    if (v) v.value += by
    else this.values.set(k, { labels, value: by })
  }
  get(labels: Record<string, string> = {}): number {
    return this.values.get(keyOf(labels))?.value ?? 0
  }
  lines() {
    return [...this.values.values()].map((v) => `${this.name}${labelText(v.labels)} ${v.value}`)
  }
}

/** A value read when scraped: a gauge (a queue's current depth), or a counter kept elsewhere (CPU time). */
export class Gauge extends Metric {
  private readonly sources = new Map<string, { labels: Record<string, string>; read: () => number }>()
  constructor(name: string, help: string, type: "gauge" | "counter" = "gauge") {
    super(name, help, type)
  }
  track(labels: Record<string, string>, read: () => number): void {
    this.sources.set(keyOf(labels), { labels, read })
  }
  lines() {
    return [...this.sources.values()].map((s) => `${this.name}${labelText(s.labels)} ${s.read()}`)
  }
}

export class Histogram extends Metric {
  private readonly series = new Map<string, { labels: Record<string, string>; counts: Array<number>; sum: number; count: number }>()
  constructor(name: string, help: string, readonly buckets: ReadonlyArray<number>) {
    super(name, help, "histogram")
  }
  observe(labels: Record<string, string>, value: number): void {
    const k = keyOf(labels)
    let s = this.series.get(k)
    if (!s) this.series.set(k, (s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }))
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++
    s.sum += value
    s.count++
  }
  count(labels: Record<string, string>): number {
    return this.series.get(keyOf(labels))?.count ?? 0
  }
  lines() {
    return [...this.series.values()].flatMap((s) => [
      ...this.buckets.map((b, i) => `${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i]}`),
      `${this.name}_bucket${labelText({ ...s.labels, le: "+Inf" })} ${s.count}`,
      `${this.name}_sum${labelText(s.labels)} ${s.sum}`,
      `${this.name}_count${labelText(s.labels)} ${s.count}`
    ])
  }
}

/** Every metric the server exports. */
export class ServerMetrics {
  readonly requests = new Counter("embedflow_requests_total", "HTTP requests by route and status code.")
  readonly latency = new Histogram(
    "embedflow_request_duration_seconds",
    "Time from a request's arrival to its response, by route.",
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
  )
  readonly batchSize = new Histogram("embedflow_batch_size", "Inputs (texts or pairs) per model batch.", [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024])
  readonly batchTokens = new Histogram("embedflow_batch_tokens", "Tokens per embedding batch.", [16, 64, 256, 1024, 4096, 16384, 65536])
  readonly queueDepth = new Gauge("embedflow_queue_depth", "Inputs waiting for a batch, by model.")
  readonly tokens = new Counter("embedflow_tokens_total", "Tokens embedded, by model.")
  readonly rss = new Gauge("process_resident_memory_bytes", "Resident memory size in bytes.")
  readonly cpu = new Gauge("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter")
  readonly heap = new Gauge("nodejs_heap_size_used_bytes", "V8 heap in use, in bytes.")
  readonly external = new Gauge("nodejs_external_memory_bytes", "Memory of C++ objects bound to JavaScript objects (buffers, typed arrays, tensors), in bytes.")

  constructor() {
    this.rss.track({}, () => process.memoryUsage.rss())
    this.heap.track({}, () => process.memoryUsage().heapUsed)
    this.external.track({}, () => process.memoryUsage().external)
    this.cpu.track({}, () => {
      const { user, system } = process.cpuUsage()
      return (user + system) / 1e6
    })
  }

  render(): string {
    return [this.requests, this.latency, this.batchSize, this.batchTokens, this.queueDepth, this.tokens, this.rss, this.cpu, this.heap, this.external].map((m) => m.render()).join("\n") + "\n"
  }
}
