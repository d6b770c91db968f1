import { createServer } from "node:http"
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { makeModelHub, ModelHub, type ModelHubShape } from "@embedflow/models"
import { Effect, Exit, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { type Answer, buildPrompt, ChunkIndex, exactTopK, ingest, type IngestOptions, type LmSpec, makeRag, type RagError } from "../src/index.js"

const docs = resolve(import.meta.dirname, "../docs")
const tmp = mkdtempSync(join(tmpdir(), "embedflow-rag-"))
const gpt2 = () => join(inject("tinyModels"), "tiny-gpt2")

// One hub for the file, so GloVe and tiny-gpt2 load once; released after the last test.
const scope = Effect.runSync(Scope.make())
let hub: ModelHubShape
afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  rmSync(tmp, { recursive: true, force: true })
})

const run = <A>(e: Effect.Effect<A, RagError, ModelHub>) => Effect.runPromise(e.pipe(Effect.provideService(ModelHub, hub)))
const failure = async (e: Effect.Effect<unknown, RagError, ModelHub>): Promise<RagError> => {
  const exit = await Effect.runPromiseExit(e.pipe(Effect.provideService(ModelHub, hub)))
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  return (exit.cause.reasons[0] as { error: RagError }).error
}
const ask = (indexDir: string, question: string, lm: LmSpec = { kind: "local", model: gpt2() }, k = 4) =>
  run(Effect.scoped(Effect.gen(function* () {
    const rag = yield* makeRag({ indexDir, lm, k })
    return yield* rag.ask(question)
  })))

const index = (kind: IngestOptions["index"]) => join(tmp, `index-${kind}`)
beforeAll(async () => {
  hub = await Effect.runPromise(Scope.provide(scope)(makeModelHub()))
  for (const kind of ["flat", "hnsw", "exact"] as const) {
    await run(ingest({ folder: docs, indexDir: index(kind), encoder: { model: inject("glove") }, index: kind }))
  }
})

describe("ingest", () => {
  it("chunks every document with overlap and writes the index folder", async () => {
    const report = await run(ingest({ folder: docs, indexDir: join(tmp, "small"), encoder: { model: inject("glove") }, chunking: { unit: "words", size: 30, overlap: 10 } }))
    expect(report.files).toBe(6)
    expect(report.dim).toBe(100)
    expect(report.chunks).toBeGreaterThan(20)
    expect(readdirSync(join(tmp, "small")).sort()).toEqual(["chunks.jsonl", "faiss", "index.json", "vectors.f32"])
    const loaded = ChunkIndex.load(join(tmp, "small"))
    expect(new Set(loaded.chunks.map((c) => c.file)).size).toBe(6)
    // rows are unit vectors, and the saved faiss Flat index agrees with an exact scan
    for (let r = 0; r < loaded.meta.count; r++) expect(Math.hypot(...loaded.vectors.subarray(r * 100, r * 100 + 100))).toBeCloseTo(1, 5)
    const q = loaded.vectors.slice(300, 400)
    expect(loaded.search(q, 5).map((h) => h.chunk.id)).toEqual(exactTopK(loaded.vectors, 100, q, 5).map((h) => loaded.chunks[h.index]!.id))
    expect(loaded.search(q, 1)[0]!.chunk.id).toBe(loaded.chunks[3]!.id)
  })

  it("fails clearly on an empty corpus, a folder of empty files, a missing folder and bad chunking", async () => {
    const empty = join(tmp, "empty")
    mkdirSync(join(empty, "sub"), { recursive: true })
    writeFileSync(join(empty, "notes.pdf"), "not a text file")
    let e = await failure(ingest({ folder: empty, indexDir: join(tmp, "x") }))
    expect(e.reason).toBe("EmptyCorpus")
    expect(e.message).toMatch(/has no \.txt\/\.md\/\.markdown files; nothing to ingest/)
    writeFileSync(join(empty, "sub/blank.md"), " \n\n ")
    e = await failure(ingest({ folder: empty, indexDir: join(tmp, "x") }))
    expect(e.message).toMatch(/1 document\(s\) but none is usable text \(all empty or binary\).*sub\/blank\.md \(empty/)
    e = await failure(ingest({ folder: join(tmp, "nope"), indexDir: join(tmp, "x") }))
    expect(e.message).toMatch(/nope does not exist or is not a folder/)
    e = await failure(ingest({ folder: docs, indexDir: join(tmp, "x"), chunking: { unit: "words", size: 10, overlap: 10 } }))
    expect(e.reason).toBe("BadInput")
  })
})

describe("ingest skips what is not text, and says so", () => {
  it("binary files and a symlink leaving the folder are in report.skipped; no chunk comes from them", async () => {
    const folder = join(tmp, "mixed")
    mkdirSync(folder, { recursive: true })
    copyFileSync(join(docs, "caching-and-resume.md"), join(folder, "caching.md"))
    copyFileSync(join(inject("tinyModels"), "tiny-gpt2/onnx/model.onnx"), join(folder, "model.md"))
    writeFileSync(join(folder, "noise.txt"), Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919 + 13) % 256)))
    symlinkSync(join(docs, "vector-search.md"), join(folder, "outside.md"))
    symlinkSync(join(folder, "caching.md"), join(folder, "inside.md"))
    const report = await run(ingest({ folder, indexDir: join(tmp, "mixed-index"), encoder: { model: inject("glove") } }))
    expect(report.files).toBe(1)
    expect(report.skipped.map((s) => s.file)).toEqual(["inside.md", "model.md", "noise.txt", "outside.md"])
    expect(report.skipped.map((s) => s.reason.split(/[:(,]/)[0])).toEqual(["same file as caching.md ", "binary", "binary", "symlink to " + join(docs, "vector-search.md")])
    const loaded = ChunkIndex.load(join(tmp, "mixed-index"))
    expect(new Set(loaded.chunks.map((c) => c.file))).toEqual(new Set(["caching.md"]))
    expect(loaded.meta.files).toEqual(["caching.md"])
  })
})

describe("ask", () => {
  it("retrieves the right file, numbers the passages in the prompt, and answers with what the LM generates for it", async () => {
    const a = await ask(index("flat"), "How does a killed run resume?")
    expect(a.noHits).toBe(false)
    expect(a.sources[0]!.chunk.file).toBe("caching-and-resume.md")
    expect(a.sources.map((s) => s.n)).toEqual([1, 2, 3, 4])
    expect(a.prompt).toBe(buildPrompt(a.question, a.sources.map((s) => ({ chunk: s.chunk, score: s.score }))))
    expect(a.prompt).toContain("[1] (caching-and-resume.md) ")
    expect(a.prompt.endsWith("Question: How does a killed run resume?\nAnswer:")).toBe(true)
    // the answer is tiny-gpt2's greedy continuation of exactly this prompt
    const direct = await run(Effect.gen(function* () {
      const lm = yield* (yield* ModelHub).causalLM(gpt2())
      return yield* lm.generate([a.prompt], { maxNewTokens: 32, temperature: 0, seed: 0, stop: ["\nQuestion:"] })
    }).pipe(Effect.mapError((e) => e as unknown as RagError)))
    expect(a.answer).toBe(direct[0]!.trim())
  })

  it("finds the same passages with faiss Flat, faiss HNSW and the exact scan", async () => {
    for (const q of ["Which index trades recall for speed with efSearch?", "What does the graph validation report?"]) {
      const ids = await Promise.all((["flat", "hnsw", "exact"] as const).map(async (kind) => (await ask(index(kind), q)).sources.map((s) => s.chunk.id)))
      expect(ids[1]).toEqual(ids[0])
      expect(ids[2]).toEqual(ids[0])
    }
    expect((await ask(index("flat"), "Which index trades recall for speed with efSearch?")).sources[0]!.chunk.file).toBe("vector-search.md")
  })

  it("a question with no hits answers so without calling the LM; an empty question and a missing index are errors", async () => {
    const a = await ask(index("flat"), "zzqxv qqqzzk")
    expect(a).toMatchObject({ noHits: true, answer: "", sources: [], citations: [], generateMs: 0 })
    const empty = await failure(Effect.scoped(Effect.gen(function* () {
      return yield* (yield* makeRag({ indexDir: index("flat"), lm: { kind: "local", model: gpt2() } })).ask("   ")
    })))
    expect(empty.message).toBe("the question is empty; type a question")
    const missing = await failure(Effect.scoped(makeRag({ indexDir: join(tmp, "no-index") })))
    expect(missing.reason).toBe("NoIndex")
    expect(missing.message).toMatch(/no index at .*no-index .*run `cli.ts ingest <folder>` first/)
  })

  it("answers through an OpenAI-compatible server and marks the passages the answer cites", async () => {
    const requests: Array<{ model: string; prompt: Array<string> | string }> = []
    const server = createServer((req, res) => {
      let body = ""
      req.on("data", (b) => (body += b))
      req.on("end", () => {
        requests.push(JSON.parse(body))
        res.writeHead(200, { "content-type": "application/json" })
        const prompts = ([] as Array<string>).concat(requests.at(-1)!.prompt)
        res.end(JSON.stringify({ choices: prompts.map((_, index) => ({ index, text: " Finished nodes are skipped when the graph runs again [2], [1].", finish_reason: "stop" })) }))
      })
    })
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok))
    try {
      const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
      const a: Answer = await ask(index("flat"), "How does a killed run resume?", { kind: "openai", baseUrl, model: "stub-model" })
      expect(requests.length).toBe(1)
      expect(requests[0]!.model).toBe("stub-model")
      expect(([] as Array<string>).concat(requests[0]!.prompt)[0]).toBe(a.prompt)
      expect(a.answer).toBe("Finished nodes are skipped when the graph runs again [2], [1].")
      expect(a.citations).toEqual([1, 2])
      expect(a.sources.map((s) => s.cited)).toEqual([true, true, false, false])
    } finally {
      server.close()
    }
  })
})
