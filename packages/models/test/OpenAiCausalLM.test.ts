import { Effect, Exit } from "effect"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { CausalLM, layerOpenAiCausalLM, makeOpenAiCausalLM, OpenAiCausalLM } from "../src/index.js"
import { run, tiny } from "./helpers.js"

/**
 * A stub OpenAI-compatible server on 127.0.0.1 speaking the real wire format of /v1/completions
 * (echo, logprobs with tokens/token_logprobs/top_logprobs/text_offset, stop, batched prompts) and
 * /v1/chat/completions. Its "model": tokens are words with their leading space; the log-probability
 * of a token is a fixed function of its text; generation cycles through a word list by seed.
 */
const tokenize = (text: string): Array<string> => text.match(/\s*\S+/g) ?? []
const tokenLogprob = (token: string): number => -(1 + ([...token].reduce((a, c) => a + c.charCodeAt(0), 0) % 7)) / 4
const WORDS = [" the", " cat", " sat", " on", " a", " mat", ".", " and", " slept"]
const generateText = (prompt: string, maxTokens: number, seed: number): string =>
  Array.from({ length: maxTokens }, (_, j) => WORDS[(seed + prompt.length + j) % WORDS.length]).join("")

const bodies: Array<Record<string, any>> = []
let server: Server
let baseUrl = ""

const completionChoice = (prompt: string, body: Record<string, any>, index: number) => {
  let gen = generateText(prompt, body.max_tokens ?? 16, body.seed ?? 0)
  for (const s of body.stop ?? []) if (gen.includes(s)) gen = gen.slice(0, gen.indexOf(s))
  const text = body.echo ? prompt + gen : gen
  let logprobs = null
  if (body.logprobs != null) {
    const toks = tokenize(text)
    const offsets: Array<number> = []
    let pos = 0
    for (const t of toks) {
      offsets.push(pos)
      pos += t.length
    }
    const base = body.echo ? 0 : prompt.length
    logprobs = {
      tokens: toks,
      token_logprobs: toks.map((t, i) => (body.echo && i === 0 ? null : tokenLogprob(t))),
      top_logprobs: toks.map((t, i) =>
        body.echo && i === 0 ? null : Object.fromEntries([t, ...WORDS.filter((w) => w !== t)].slice(0, body.logprobs).map((w) => [w, tokenLogprob(w)]))
      ),
      text_offset: offsets.map((o) => o + base)
    }
  }
  return { index, text, logprobs, finish_reason: "length" }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = ""
    req.on("data", (c) => (raw += c))
    req.on("end", () => {
      const body = JSON.parse(raw)
      bodies.push({ path: req.url, auth: req.headers.authorization, ...body })
      const send = (status: number, obj: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(obj))
      if (body.model === "broken") return send(500, { error: { message: "model crashed", type: "server_error" } })
      if (req.url === "/v1/completions") {
        if (body.model === "no-echo" && body.echo) return send(400, { error: { message: "echo is not supported", type: "invalid_request_error" } })
        const prompts: Array<string> = Array.isArray(body.prompt) ? body.prompt : [body.prompt]
        return send(200, { id: "cmpl-1", object: "text_completion", created: 0, model: body.model, choices: prompts.map((p, i) => completionChoice(p, body, i)).reverse() })
      }
      if (req.url === "/v1/chat/completions") {
        const content = generateText(body.messages.at(-1).content, body.max_tokens, body.seed)
        return send(200, { id: "chat-1", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }] })
      }
      send(404, { error: { message: "not found" } })
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
})
afterAll(() => void server.close())

describe("OpenAI-compatible CausalLM against a local stub server", () => {
  it("logLikelihood sums the echoed logprobs of the continuation tokens, batched", async () => {
    const pairs = [
      { prompt: "Question: where did it sit? Answer:", continuation: " on the mat" },
      { prompt: "A", continuation: " cat sat." },
      { prompt: "Nothing", continuation: "" }
    ]
    const ll = await run(Effect.flatMap(makeOpenAiCausalLM({ baseUrl, model: "stub", batchSize: 2, apiKey: "sk-test" }), (lm) => lm.logLikelihood(pairs)))
    for (let i = 0; i < pairs.length; i++) {
      const toks = tokenize(pairs[i].continuation)
      expect(ll[i].tokens).toBe(toks.length)
      expect(ll[i].total).toBeCloseTo(toks.reduce((a, t) => a + tokenLogprob(t), 0), 12)
    }
    const sent = bodies.filter((b) => b.echo)
    expect(sent.map((b) => b.prompt.length)).toEqual([2, 1]) // batchSize 2
    expect(sent[0]).toMatchObject({ path: "/v1/completions", model: "stub", echo: true, logprobs: 1, auth: "Bearer sk-test" })
  })

  it("generate sends the sampling options and applies stop strings; chat mode uses /chat/completions", async () => {
    const out = await run(
      Effect.gen(function* () {
        const lm = yield* makeOpenAiCausalLM({ baseUrl, model: "stub" })
        const plain = yield* lm.generate(["The", "A dog"], { maxNewTokens: 5, temperature: 0.7, topP: 0.9, seed: 3 })
        const stopped = yield* lm.generate(["The"], { maxNewTokens: 9, seed: 3, stop: [" mat", "zzz", "q", "w", " slept"] })
        const chat = yield* (yield* makeOpenAiCausalLM({ baseUrl, model: "stub", generateWith: "chat" })).generate(["hello"], { maxNewTokens: 2, seed: 1 })
        return { plain, stopped, chat }
      })
    )
    expect(out.plain).toEqual([generateText("The", 5, 3), generateText("A dog", 5, 3)])
    // " slept" (5th stop, beyond the API's 4) comes first in this text: cut locally.
    expect(generateText("The", 9, 3).indexOf(" slept")).toBeLessThan(generateText("The", 9, 3).indexOf(" mat"))
    expect(out.stopped[0]).toBe(generateText("The", 9, 3).split(" slept")[0])
    expect(out.chat).toEqual([generateText("hello", 2, 1)])
    const gen = bodies.find((b) => b.path === "/v1/completions" && b.temperature === 0.7)!
    expect(gen).toMatchObject({ max_tokens: 5, top_p: 0.9, seed: 3 })
    expect(bodies.find((b) => Array.isArray(b.stop))!.stop).toHaveLength(4) // the API's limit; the 5th is applied locally
    expect(bodies.find((b) => b.path === "/v1/chat/completions")).toMatchObject({ messages: [{ role: "user", content: "hello" }], temperature: 0 })
  })

  it("nextTokenTopLogprobs returns the top-k tokens, most likely first", async () => {
    const top = await run(Effect.flatMap(makeOpenAiCausalLM({ baseUrl, model: "stub" }), (lm) => lm.nextTokenTopLogprobs(["The", "A"], 3)))
    expect(top).toHaveLength(2)
    for (const row of top) {
      expect(row).toHaveLength(3)
      expect(row[0].logprob).toBeGreaterThanOrEqual(row[2].logprob)
    }
  })

  it("decoder() fails saying raw logits need a local model; server errors become ModelErrors", async () => {
    const r = await run(
      Effect.gen(function* () {
        const lm = yield* makeOpenAiCausalLM({ baseUrl, model: "stub" })
        const decoder = yield* Effect.exit(lm.decoder(["x"]))
        const broken = yield* Effect.exit((yield* makeOpenAiCausalLM({ baseUrl, model: "broken" })).generate(["x"], { maxNewTokens: 1, seed: 0 }))
        const noEcho = yield* Effect.exit((yield* makeOpenAiCausalLM({ baseUrl, model: "no-echo" })).logLikelihood([{ prompt: "a", continuation: " b" }]))
        return { decoder, broken, noEcho }
      })
    )
    expect(Exit.isFailure(r.decoder) && String(r.decoder.cause)).toContain("raw next-token logits")
    expect(Exit.isFailure(r.broken) && String(r.broken.cause)).toContain("HTTP 500")
    expect(Exit.isFailure(r.noEcho) && String(r.noEcho.cause)).toContain("echo is not supported")
  })

  it("is provided as CausalLM and OpenAiCausalLM, with a local tokenizer for encode/decode", async () => {
    const r = await run(
      Effect.gen(function* () {
        const lm = yield* CausalLM
        const same = (yield* OpenAiCausalLM) === lm
        const ids = lm.encode("A man is playing")
        return { same, round: lm.decode(ids), n: ids.length, vocab: lm.vocabSize }
      }).pipe(Effect.provide(layerOpenAiCausalLM({ baseUrl, model: "stub", tokenizer: tiny("tiny-gpt2") })))
    )
    expect(r.same).toBe(true)
    expect(r.round).toBe("A man is playing")
    expect(r.n).toBeGreaterThan(0)
    expect(r.vocab).toBe(1280)
  })
})
