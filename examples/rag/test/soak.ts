/**
 * A soak of the RAG server: many requests over keep-alive connections, a mix of every route and
 * error path, each checked for its status and the security headers; the server's RSS is read from
 * /proc every 1% of the requests, and its growth over the second half compares the medians of the
 * samples at 40-50% and at 90-100%. Used by test/Soak.test.ts and scripts/soak.ts.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { Agent, request } from "node:http"
import { resolve } from "node:path"

export interface SoakOptions {
  readonly url: string
  /** The server's process id, for its RSS. */
  readonly pid: number
  readonly requests: number
  readonly concurrency: number
  /**
   * Requests of the same mix sent first and not counted (default 0): the heap settles after start-up
   * (RSS falls as start-up garbage is collected), which would otherwise mask or mimic growth.
   * Any failure among them fails the soak.
   */
  readonly warmup?: number | undefined
}

export interface SoakResult {
  readonly requests: number
  readonly concurrency: number
  readonly errors: number
  /** The first few errors, for the message. */
  readonly sampleErrors: ReadonlyArray<string>
  readonly byStatus: Readonly<Record<number, number>>
  readonly seconds: number
  readonly requestsPerSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** p50 / p99 latency in ms by request kind ("POST /api/ask 200", ...). */
  readonly byKind: Readonly<Record<string, { readonly n: number; readonly p50Ms: number; readonly p99Ms: number }>>
  readonly rssStartMiB: number
  /** Median of the RSS samples taken from 40% to 50% of the requests (one sample per 1%). */
  readonly rssHalfMiB: number
  /** Median of the samples from 90% to 100%: medians, so one GC's swing does not decide the test. */
  readonly rssEndMiB: number
  /** Largest sample of the second half. */
  readonly rssPeakSecondHalfMiB: number
  /** (end - half) / half. */
  readonly rssGrowthSecondHalf: number
}

/** Resident set size of a Linux process, in MiB. */
export const rssMiB = (pid: number): number => {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  if (!m) throw new Error(`no VmRSS for process ${pid}`)
  return Number(m[1]) / 1024
}

interface Probe {
  readonly method: "GET" | "POST"
  readonly path: string
  readonly body?: string
  readonly status: number
  /** Checks the parsed body; returns a problem or undefined. */
  readonly check?: (body: string) => string | undefined
}

const QUESTIONS = [
  "How does a killed run resume?",
  "Which index trades recall for speed with efSearch?",
  "What does the graph validation report?",
  "How are models loaded from a folder?",
  "What is PromptEOL pooling?"
]

const json = (check: (b: Record<string, unknown>) => string | undefined) => (body: string) => {
  try {
    return check(JSON.parse(body) as Record<string, unknown>)
  } catch (e) {
    return `body is not JSON: ${(e as Error).message}`
  }
}

/** The i-th request of the mix: 40% answered questions, then one each of no-hit, info, page, 400, 413, 404. */
const probe = (i: number): Probe => {
  switch (i % 10) {
    case 4:
      return { method: "POST", path: "/api/ask", body: JSON.stringify({ question: "zzqxv qqqzzk" }), status: 200, check: json((b) => (b.noHits === true ? undefined : "expected noHits")) }
    case 5:
      return { method: "GET", path: "/api/info", status: 200, check: json((b) => (typeof b.chunks === "number" && b.chunks > 0 ? undefined : "expected chunks")) }
    case 6:
      return { method: "GET", path: "/", status: 200, check: (b) => (b.includes("<title>embedflow RAG</title>") ? undefined : "not the page") }
    case 7:
      return { method: "POST", path: "/api/ask", body: JSON.stringify({ question: "  " }), status: 400 }
    case 8:
      return { method: "POST", path: "/api/ask", body: JSON.stringify({ question: "x".repeat(70 * 1024) }), status: 413 }
    case 9:
      return { method: "GET", path: "/no-such-route", status: 404 }
    default:
      return {
        method: "POST",
        path: "/api/ask",
        body: JSON.stringify({ question: QUESTIONS[i % QUESTIONS.length], k: 3 }),
        status: 200,
        check: json((b) => (Array.isArray(b.sources) && b.sources.length > 0 && b.noHits === false ? undefined : "expected sources"))
      }
  }
}

/** How many responses of each status the first `requests` of the mix should get. */
export const expectedStatuses = (requests: number): Record<number, number> => {
  const counts: Record<number, number> = {}
  for (let i = 0; i < requests; i++) counts[probe(i).status] = (counts[probe(i).status] ?? 0) + 1
  return counts
}

const SECURITY = ["content-security-policy", "x-content-type-options", "referrer-policy"] as const

const send = (agent: Agent, base: URL, p: Probe): Promise<{ status: number; headers: Record<string, unknown>; body: string }> =>
  new Promise((ok, fail) => {
    const req = request(
      new URL(p.path, base),
      { method: p.method, agent, headers: p.body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(p.body) }, timeout: 60_000 },
      (res) => {
        const parts: Array<Buffer> = []
        res.on("data", (b: Buffer) => parts.push(b))
        res.on("end", () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString("utf8") }))
        res.on("error", fail)
      }
    )
    req.on("timeout", () => req.destroy(new Error("timed out after 60 s")))
    req.on("error", fail)
    req.end(p.body)
  })

export const soak = async (options: SoakOptions): Promise<SoakResult> => {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency })
  const base = new URL(options.url)
  const byStatus: Record<number, number> = {}
  const sampleErrors: Array<string> = []
  const latencies: Array<number> = []
  const kinds: Record<string, Array<number>> = {}
  let errors = 0
  let next = 0
  let done = 0
  // One answered question first: the first generation pays one-off costs (the first ONNX runs), which
  // would otherwise stall the first 50 requests behind it and dominate the tail latency.
  const warm = await send(agent, base, probe(0))
  if (warm.status !== 200) throw new Error(`warm-up request failed with ${warm.status}: ${warm.body.slice(0, 200)}`)
  for (let w = 0; w < (options.warmup ?? 0); w += options.concurrency) {
    const batch = Array.from({ length: Math.min(options.concurrency, options.warmup! - w) }, (_, j) => probe(w + j))
    const replies = await Promise.all(batch.map((p) => send(agent, base, p)))
    replies.forEach((r, j) => {
      if (r.status !== batch[j]!.status) throw new Error(`warm-up request ${w + j} got ${r.status}, expected ${batch[j]!.status}: ${r.body.slice(0, 200)}`)
    })
  }
  const rssStartMiB = rssMiB(options.pid)
  // (fraction of the requests done, RSS) every 1% of the requests.
  const samples: Array<{ at: number; mib: number }> = []
  const every = Math.max(1, Math.floor(options.requests / 100))
  const t0 = performance.now()
  const worker = async () => {
    while (next < options.requests) {
      const i = next++
      const p = probe(i)
      const started = performance.now()
      let problem: string | undefined
      try {
        const r = await send(agent, base, p)
        byStatus[r.status] = (byStatus[r.status] ?? 0) + 1
        const missing = SECURITY.filter((h) => typeof r.headers[h] !== "string" || r.headers[h] === "")
        if (r.status !== p.status) problem = `status ${r.status}, expected ${p.status}: ${r.body.slice(0, 200)}`
        else if (missing.length > 0) problem = `missing headers ${missing.join(", ")}`
        else problem = p.check?.(r.body)
      } catch (e) {
        problem = `transport error: ${(e as Error).message}`
      }
      const ms = performance.now() - started
      latencies.push(ms)
      ;(kinds[`${p.method} ${p.path} ${p.status}`] ??= []).push(ms)
      if (problem !== undefined) {
        errors++
        if (sampleErrors.length < 5) sampleErrors.push(`#${i} ${p.method} ${p.path}: ${problem}`)
      }
      if (++done % every === 0) samples.push({ at: done / options.requests, mib: rssMiB(options.pid) })
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  const seconds = (performance.now() - t0) / 1000
  samples.push({ at: 1, mib: rssMiB(options.pid) })
  agent.destroy()
  const median = (from: number, to: number) => {
    const xs = samples.filter((x) => x.at >= from && x.at <= to).map((x) => x.mib).sort((a, b) => a - b)
    return xs[Math.floor(xs.length / 2)]!
  }
  const rssHalfMiB = median(0.4, 0.5)
  const rssEndMiB = median(0.9, 1)
  const rssPeakSecondHalfMiB = Math.max(...samples.filter((x) => x.at > 0.5).map((x) => x.mib))
  const pct = (xs: Array<number>, q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!
  const byKind = Object.fromEntries(Object.entries(kinds).map(([k, xs]) => [k, { n: xs.length, p50Ms: pct(xs, 0.5), p99Ms: pct(xs, 0.99) }]))
  return {
    requests: options.requests,
    concurrency: options.concurrency,
    errors,
    sampleErrors,
    byStatus,
    seconds,
    requestsPerSecond: options.requests / seconds,
    p50Ms: pct(latencies, 0.5),
    p99Ms: pct(latencies, 0.99),
    byKind,
    rssStartMiB,
    rssHalfMiB,
    rssEndMiB,
    rssPeakSecondHalfMiB,
    rssGrowthSecondHalf: (rssEndMiB - rssHalfMiB) / rssHalfMiB
  }
}

export interface ServerProcess {
  readonly url: string
  readonly pid: number
  readonly child: ChildProcess
  readonly stop: () => Promise<void>
}

/** `cli.ts serve --port 0` in a child process (so its RSS is the server's alone); resolves with its URL. */
export const startServerProcess = (args: ReadonlyArray<string>): Promise<ServerProcess> =>
  new Promise((ok, fail) => {
    const cli = resolve(import.meta.dirname, "../src/cli.ts")
    const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", cli, "serve", "--port", "0", ...args], {
      cwd: resolve(import.meta.dirname, ".."),
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    let err = ""
    const stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done()
        child.once("exit", () => done())
        child.kill("SIGTERM")
      })
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString()
      const m = / at (http:\/\/\S+\/) /.exec(out)
      if (m) ok({ url: m[1]!, pid: child.pid!, child, stop })
    })
    child.stderr!.on("data", (b: Buffer) => (err += b.toString()))
    child.once("exit", (code) => fail(new Error(`server exited with ${code} before listening: ${err || out}`)))
  })
