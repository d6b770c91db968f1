/**
 * `embedflow serve` under load, on 127.0.0.1: the server runs as its own process (the CLI), the
 * clients here send one STS-B sentence per request over keep-alive connections, 1, 8 and 64 at a
 * time. Throughput is compared with the in-process Encoder embedding the very same sentences in
 * one call (its best case: whole length-sorted batches, no HTTP), measured right before and right
 * after each phase in the same run (the machine is shared: the ratio uses the mean of the two).
 * Also: p50/p99 request latency, the server's RSS before and after 10,000 more requests (from its
 * /metrics), and a check that served vectors equal the in-process ones.
 *
 * Two models: tiny-bert (32-d, 2 layers: inference is so cheap that HTTP dominates) and a
 * MiniLM-L6-shaped BERT (384-d, 6 layers, 12 heads, random weights, tiny-bert's tokenizer) built
 * here, whose compute is that of a real small sentence encoder (on a quarter of the sentences).
 *
 *   node --conditions=source --import tsx bench/src/serve.bench.ts [sentences=2000] [soakRequests=10000] [models=tiny-bert,minilm-shape] [-- serve options...]
 */
import { encoderConfig, type EncoderShape, makeEncoder } from "@embedflow/models"
import { bertHfConfig, bertOnnx, bertWeights } from "@embedflow/tiny-models"
import { Effect, Exit, Scope } from "effect"
import { spawn } from "node:child_process"
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as http from "node:http"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

const repoRoot = resolve(import.meta.dirname, "../..")
const count = Number(process.argv[2] ?? 2000)
const soakRequests = Number(process.argv[3] ?? 10_000)
const modelNames = (process.argv[4] ?? "tiny-bert,minilm-shape").split(",")
const dashDash = process.argv.indexOf("--")
const serveArgs = dashDash >= 0 ? process.argv.slice(dashDash + 1) : []
/** Every phase stops after this long whatever its count, so the bench always ends. */
const PHASE_LIMIT_MS = 180_000

const dataDir = process.env.EMBEDFLOW_DATA ?? join(repoRoot, "../shared/data")
const sentences: Array<string> = []
for (const line of readFileSync(join(dataDir, "stsbenchmark/sts-train.csv"), "utf8").split("\n")) {
  const cols = line.split("\t")
  if (cols.length >= 7) sentences.push(cols[5]!, cols[6]!)
  if (sentences.length >= count) break
}
sentences.length = Math.min(sentences.length, count)

const tinyBert = join(repoRoot, "models/tiny/tiny-bert")
const scratch = mkdtempSync(join(tmpdir(), "embedflow-serve-bench-"))

/** A BERT with all-MiniLM-L6-v2's shape and random weights, with tiny-bert's tokenizer. */
const buildMiniLmShape = (): string => {
  const dir = join(scratch, "minilm-shape")
  mkdirSync(join(dir, "onnx"), { recursive: true })
  for (const f of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]) copyFileSync(join(tinyBert, f), join(dir, f))
  const vocabSize = (JSON.parse(readFileSync(join(tinyBert, "config.json"), "utf8")) as { vocab_size: number }).vocab_size
  const c = { vocabSize, hiddenSize: 384, numLayers: 6, numHeads: 12, intermediateSize: 1536, maxPositions: 512, typeVocabSize: 2, layerNormEps: 1e-12 }
  writeFileSync(join(dir, "config.json"), JSON.stringify(bertHfConfig(c, false)))
  writeFileSync(join(dir, "onnx/model.onnx"), bertOnnx(c, bertWeights(c, 7)))
  return dir
}

// SERVE_NODE_ARGS: extra node flags for the server process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
const nodeArgs = (process.env.SERVE_NODE_ARGS ?? "").split(" ").filter((a) => a !== "")

/** Starts `embedflow serve --model m=<dir>` as a user would; resolves with its URL. */
const startServer = async (dir: string) => {
  const child = spawn(process.execPath, [...nodeArgs, "--conditions=source", "--import", "tsx", join(repoRoot, "packages/cli/src/bin.ts"), "serve", "--model", `m=${dir}`, "--port", "0", ...serveArgs], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "inherit"]
  })
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)))
  const url = await new Promise<string>((resolve, reject) => {
    let text = ""
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s: ${text}`)), 60_000)
    child.stdout!.on("data", (d: Buffer) => {
      text += d.toString()
      const m = /serving on (http:\/\/\S+)/.exec(text)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
  })
  const stop = async () => {
    child.kill("SIGTERM")
    return Promise.race([exited, new Promise((r) => setTimeout(() => r("timeout"), 30_000))])
  }
  return { url, stop }
}

const request = (agent: http.Agent, url: URL, path: string, body?: string): Promise<{ status: number; text: string }> =>
  new Promise((resolve, reject) => {
    const headers = body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {}
    const req = http.request({ host: url.hostname, port: url.port, path, method: body ? "POST" : "GET", agent, headers }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }))
      res.on("error", reject)
    })
    req.on("error", reject)
    req.end(body)
  })

const embedBody = (text: string) => JSON.stringify({ model: "m", input: text, encoding_format: "float" })

interface Phase {
  readonly requests: number
  readonly seconds: number
  readonly p50: number
  readonly p99: number
  readonly errors: number
  readonly maxDiff: number
}

/** `clients` concurrent loops sending one sentence per request until `total` requests (or the time limit). */
const load = async (url: URL, clients: number, total: number, texts: ReadonlyArray<string>, reference?: { dim: number; vectors: Float32Array }): Promise<Phase> => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients })
  const latencies: Array<number> = []
  let next = 0
  let errors = 0
  let maxDiff = 0
  const deadline = performance.now() + PHASE_LIMIT_MS
  const started = performance.now()
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total && performance.now() < deadline) {
        const i = next++ % texts.length
        const t0 = performance.now()
        const res = await request(agent, url, "/v1/embeddings", embedBody(texts[i]!))
        latencies.push(performance.now() - t0)
        if (res.status !== 200) {
          errors++
          continue
        }
        if (reference) {
          const v = (JSON.parse(res.text) as { data: Array<{ embedding: Array<number> }> }).data[0]!.embedding
          for (let d = 0; d < reference.dim; d++) maxDiff = Math.max(maxDiff, Math.abs(v[d]! - reference.vectors[i * reference.dim + d]!))
        }
      }
    })
  )
  const seconds = (performance.now() - started) / 1000
  agent.destroy()
  latencies.sort((a, b) => a - b)
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!
  return { requests: latencies.length, seconds, p50: q(0.5), p99: q(0.99), errors, maxDiff }
}

/** The server's RSS (bytes) and CPU time (s) from its /metrics. */
const serverProcess = async (url: URL): Promise<{ rss: number; cpu: number; heap: number; external: number }> => {
  const agent = new http.Agent()
  const text = (await request(agent, url, "/metrics")).text
  agent.destroy()
  const read = (name: string) => Number(new RegExp(`^${name} ([\\d.e+-]+)$`, "m").exec(text)?.[1])
  return { rss: read("process_resident_memory_bytes"), cpu: read("process_cpu_seconds_total"), heap: read("nodejs_heap_size_used_bytes"), external: read("nodejs_external_memory_bytes") }
}
const cpuSeconds = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1e6
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1)

const benchModel = async (name: string, dir: string, sentences: ReadonlyArray<string>, soak: boolean) => {
  const scope = await Effect.runPromise(Scope.make())
  // The baseline at its best: the Encoder's default run size (16384 padded tokens) and a small one
  // (1024), which is faster for bigger models on CPU; each phase is compared with the faster.
  const encoders: Array<EncoderShape> = await Effect.runPromise(
    Scope.provide(scope)(Effect.forEach([16384, 1024], (maxTokensPerBatch) => makeEncoder(encoderConfig({ model: dir, maxTokensPerBatch }))))
  )
  const reference = { dim: encoders[0]!.dim, vectors: await Effect.runPromise(encoders[0]!.embed(sentences)) }
  await Effect.runPromise(encoders[1]!.embed(sentences)) // warm-up
  /** In-process sentences/s over all the sentences (one call each), and CPU µs per sentence (all threads), of the faster encoder. */
  const inProcess = async () => {
    const runs = []
    for (const encoder of encoders) {
      const c0 = cpuSeconds()
      const t0 = performance.now()
      await Effect.runPromise(encoder.embed(sentences))
      runs.push({ rate: (sentences.length / (performance.now() - t0)) * 1000, cpu: ((cpuSeconds() - c0) / sentences.length) * 1e6 })
    }
    return runs.reduce((a, b) => (b.rate > a.rate ? b : a))
  }
  const server = await startServer(dir)
  const url = new URL(server.url)
  try {
    const warm = await load(url, 8, sentences.length, sentences, reference)
    console.log(`\n${name}: embedflow serve ${serveArgs.join(" ")} on ${server.url}, ${sentences.length} STS-B sentences, one sentence per request`)
    console.log(`  served vs in-process vectors: max |diff| = ${warm.maxDiff.toExponential(2)} over ${warm.requests} requests (${warm.errors} errors)`)
    console.log("  (CPU columns: µs of CPU per sentence, all threads: the server process, the client process, the in-process Encoder;")
    console.log("   CPU ratio = in-process CPU / server CPU, the server's efficiency, less sensitive than wall time to a shared machine)")
    console.log("  clients  requests  served/s  in-process/s  ratio   p50 ms   p99 ms  errors  server CPU  client CPU  in-process CPU  CPU ratio")
    for (const clients of [1, 8, 64]) {
      const before = await inProcess()
      const s0 = await serverProcess(url)
      const c0 = cpuSeconds()
      const p = await load(url, clients, clients === 1 ? Math.min(500, sentences.length) : sentences.length, sentences)
      const clientCpu = ((cpuSeconds() - c0) / p.requests) * 1e6
      const s1 = await serverProcess(url)
      const after = await inProcess()
      const rate = p.requests / p.seconds
      const base = (before.rate + after.rate) / 2
      const serverCpu = ((s1.cpu - s0.cpu) / p.requests) * 1e6
      console.log(
        `  ${String(clients).padStart(7)}  ${String(p.requests).padStart(8)}  ${rate.toFixed(0).padStart(8)}  ${base.toFixed(0).padStart(12)}  ${(rate / base).toFixed(2).padStart(4)}x  ${p.p50.toFixed(2).padStart(7)}  ${p.p99.toFixed(2).padStart(7)}  ${String(p.errors).padStart(6)}  ${serverCpu.toFixed(0).padStart(10)}  ${clientCpu.toFixed(0).padStart(10)}  ${((before.cpu + after.cpu) / 2).toFixed(0).padStart(14)}  ${((before.cpu + after.cpu) / 2 / serverCpu).toFixed(2).padStart(8)}x`
      )
    }
    if (soak) {
      // In quarters: growth that stops is warm-up (allocator arenas, V8 heap sizing), growth that goes on is a leak.
      const samples = [await serverProcess(url)]
      let n = 0
      let seconds = 0
      let errors = 0
      for (let q = 0; q < 4; q++) {
        const part = await load(url, 64, Math.ceil(soakRequests / 4), sentences)
        samples.push(await serverProcess(url))
        n += part.requests
        seconds += part.seconds
        errors += part.errors
      }
      console.log(
        `  server RSS over ${n} more requests at 64 clients, in quarters: ${samples.map((x) => mb(x.rss)).join(" -> ")} MiB ` +
          `(V8 heap used ${samples.map((x) => mb(x.heap)).join(" -> ")}, external ${samples.map((x) => mb(x.external)).join(" -> ")}) ` +
          `(${(n / seconds).toFixed(0)} sentences/s, ${errors} errors)`
      )
    }
  } finally {
    console.log(`  server stopped on SIGTERM: exit ${await server.stop()}`)
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

try {
  for (const [i, name] of modelNames.entries()) {
    const dir = name === "tiny-bert" ? tinyBert : name === "minilm-shape" ? buildMiniLmShape() : resolve(name)
    // The MiniLM-shaped model costs ~50x tiny-bert per sentence: a quarter of the sentences keeps the run short.
    await benchModel(name, dir, name === "minilm-shape" ? sentences.slice(0, Math.ceil(sentences.length / 4)) : sentences, i === 0)
  }
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
