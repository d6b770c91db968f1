import { makeCrossEncoder } from "@embedflow/models"
import { Effect } from "effect"
import * as path from "node:path"
import OpenAI from "openai"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type ServerHandle, startServer } from "../src/index.js"
import { embedInProcess, maxAbsDiff, post, tiny } from "./helpers.js"

const repoRoot = path.resolve(import.meta.dirname, "../../..")
const glove = path.join(repoRoot, "models/glove-6b-100d")

const texts = [
  "A man is playing a guitar.",
  "A woman is slicing an onion.",
  "Two dogs run across a snowy field while the sun sets behind the hills.",
  "short",
  ""
]

describe("embedflow serve", () => {
  let server: ServerHandle
  let client: OpenAI

  beforeAll(async () => {
    server = await startServer({
      models: [
        { id: "tiny-bert", source: tiny("tiny-bert") },
        { id: "glove", source: glove },
        { id: "cross", source: tiny("tiny-bert-cross") }
      ],
      port: 0,
      maxBodyBytes: 64 * 1024
    })
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0, timeout: 30_000 })
  })
  afterAll(() => server?.close())

  it("listens on 127.0.0.1 by default", () => {
    expect(server.host).toBe("127.0.0.1")
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  })

  it("openai client, float: the in-process Encoder's embeddings within 1e-5, usage counts tokens", async () => {
    for (const model of ["tiny-bert", "glove"] as const) {
      const source = model === "glove" ? glove : tiny("tiny-bert")
      const ref = await embedInProcess({ model: source, pooling: "mean", normalize: true }, texts)
      const res = await client.embeddings.create({ model, input: texts, encoding_format: "float" })
      expect(res.model).toBe(model)
      expect(res.data.map((d) => d.index)).toEqual(texts.map((_, i) => i))
      const got = Float32Array.from(res.data.flatMap((d) => d.embedding))
      expect(got.length).toBe(texts.length * ref.dim)
      expect(maxAbsDiff(got, ref.vectors)).toBeLessThan(1e-5)
      expect(res.usage.prompt_tokens).toBeGreaterThan(texts.length)
      expect(res.usage.total_tokens).toBe(res.usage.prompt_tokens)
    }
  })

  it("openai client, base64 (explicit, and the client's default decoding) equals float", async () => {
    const ref = await embedInProcess({ model: tiny("tiny-bert") }, texts)
    const raw = await client.embeddings.create({ model: "tiny-bert", input: texts, encoding_format: "base64" })
    const decoded = raw.data.map((d) => {
      const bytes = Buffer.from(d.embedding as unknown as string, "base64")
      return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)
    })
    expect(maxAbsDiff(Float32Array.from(decoded.flatMap((v) => Array.from(v))), ref.vectors)).toBe(0)
    // Without encoding_format the client asks for base64 and decodes it itself.
    const implicit = await client.embeddings.create({ model: "tiny-bert", input: texts[0]! })
    expect(maxAbsDiff(implicit.data[0]!.embedding, ref.vectors.subarray(0, ref.dim))).toBe(0)
  })

  it("dimensions truncates and renormalises; more than the model's size is a 400", async () => {
    const ref = await embedInProcess({ model: glove }, texts.slice(0, 2))
    const res = await client.embeddings.create({ model: "glove", input: texts.slice(0, 2), dimensions: 16, encoding_format: "float" })
    for (let r = 0; r < 2; r++) {
      const head = Array.from(ref.vectors.subarray(r * ref.dim, r * ref.dim + 16))
      const norm = Math.hypot(...head)
      const v = res.data[r]!.embedding
      expect(v.length).toBe(16)
      expect(maxAbsDiff(v, head.map((x) => x / norm))).toBeLessThan(1e-6)
      expect(Math.hypot(...v)).toBeCloseTo(1, 6)
    }
    const err = await client.embeddings.create({ model: "glove", input: "x", dimensions: 101 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/dimensions.*between 1 and 100/)
  })

  it("GET /v1/models lists every model; unknown and wrong-kind models are refused", async () => {
    const list = await client.models.list()
    expect(list.data.map((m) => m.id)).toEqual(["tiny-bert", "glove", "cross"])
    const unknown = await client.embeddings.create({ model: "nope", input: "x" }).catch((e: unknown) => e)
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError)
    const res = await post(`${server.url}/v1/embeddings`, JSON.stringify({ model: "cross", input: "x" }))
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/'cross' is a rerank model/)
  })

  it("POST /rerank: TEI's shape, sorted by score, sigmoid of the CrossEncoder's logits (raw_scores: the logits)", async () => {
    const query = "What is a guitar?"
    const docs = ["A guitar is a string instrument.", "Onions are vegetables.", "The sun sets."]
    const logits = await Effect.runPromise(Effect.scoped(Effect.flatMap(makeCrossEncoder(tiny("tiny-bert-cross")), (c) => c.score(docs.map((d) => [query, d] as const)))))
    const res = await post(`${server.url}/rerank`, JSON.stringify({ query, texts: docs, return_text: true }))
    expect(res.status).toBe(200)
    const ranks = (await res.json()) as Array<{ index: number; score: number; text: string }>
    const expected = docs.map((text, index) => ({ index, score: 1 / (1 + Math.exp(-logits[index]!)), text })).sort((a, b) => b.score - a.score)
    expect(ranks.map((r) => r.index)).toEqual(expected.map((r) => r.index))
    ranks.forEach((r, i) => {
      expect(r.text).toBe(expected[i]!.text)
      expect(Math.abs(r.score - expected[i]!.score)).toBeLessThan(1e-6)
    })
    const raw = (await (await post(`${server.url}/rerank`, JSON.stringify({ model: "cross", query, texts: docs, raw_scores: true }))).json()) as Array<{ index: number; score: number; text?: string }>
    for (const r of raw) {
      expect(Math.abs(r.score - logits[r.index]!)).toBeLessThan(1e-6)
      expect(r.text).toBeUndefined()
    }
  })

  it("malformed JSON, wrong fields and empty input are 400s with a message naming the problem", async () => {
    const cases: Array<[string, RegExp]> = [
      ['{"model": "tiny-bert", "input": ', /malformed JSON/],
      ["", /body is empty/],
      [JSON.stringify({ model: "tiny-bert", input: 3 }), /invalid embeddings request: Expected string \| array.*input/],
      [JSON.stringify({ model: "tiny-bert", input: [] }), /'input' must not be an empty array/],
      [JSON.stringify({ model: "tiny-bert", input: "x", encoding_format: "int8" }), /encoding_format/],
      [JSON.stringify({ input: "x" }), /'model' is required/]
    ]
    for (const [body, message] of cases) {
      const res = await post(`${server.url}/v1/embeddings`, body)
      expect(res.status, body).toBe(400)
      const json = (await res.json()) as { error: { message: string; type: string } }
      expect(json.error.message).toMatch(message)
      expect(json.error.type).toBe("invalid_request_error")
    }
    const rerank = await post(`${server.url}/rerank`, JSON.stringify({ query: "q" }))
    expect(rerank.status).toBe(400)
    expect(((await rerank.json()) as { error: { message: string } }).error.message).toMatch(/texts/)
  })

  it("oversized bodies are 413 (declared length and chunked), other routes 404/405", async () => {
    const big = JSON.stringify({ model: "tiny-bert", input: "word ".repeat(20_000) })
    const res = await post(`${server.url}/v1/embeddings`, big)
    expect(res.status).toBe(413)
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/exceeds the limit of 65536 bytes/)
    const chunked = await fetch(`${server.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < 20; i++) c.enqueue(new TextEncoder().encode("x".repeat(8192)))
          c.close()
        }
      }),
      duplex: "half"
    } as RequestInit)
    expect(chunked.status).toBe(413)
    expect((await fetch(`${server.url}/v2/nothing`)).status).toBe(404)
    const wrongMethod = await fetch(`${server.url}/v1/embeddings`)
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.headers.get("allow")).toBe("POST")
    // The server still serves after refusing.
    expect((await client.embeddings.create({ model: "tiny-bert", input: "still here" })).data).toHaveLength(1)
  })

  it("GET /health and GET /metrics (Prometheus text with requests, latency, batches, queue depth, tokens)", async () => {
    const health = await fetch(`${server.url}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: "ok", models: ["tiny-bert", "glove", "cross"] })
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).toMatch(/^# TYPE embedflow_requests_total counter$/m)
    expect(metrics).toMatch(/^embedflow_requests_total\{route="\/v1\/embeddings",status="200"\} [1-9]\d*$/m)
    expect(metrics).toMatch(/^embedflow_requests_total\{route="\/v1\/embeddings",status="413"\} 2$/m)
    expect(metrics).toMatch(/^embedflow_request_duration_seconds_bucket\{route="\/v1\/embeddings",le="\+Inf"\} [1-9]\d*$/m)
    expect(metrics).toMatch(/^embedflow_batch_size_count\{model="tiny-bert"\} [1-9]\d*$/m)
    expect(metrics).toMatch(/^embedflow_queue_depth\{model="tiny-bert"\} 0$/m)
    expect(Number(/^process_resident_memory_bytes (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(10_000_000)
    expect(Number(/^process_cpu_seconds_total ([\d.]+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0)
    expect(Number(/^nodejs_heap_size_used_bytes (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(1_000_000)
    expect(metrics).toMatch(/^embedflow_tokens_total\{model="glove"\} [1-9]\d*$/m)
  })
})
