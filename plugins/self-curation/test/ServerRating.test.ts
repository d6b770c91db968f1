import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { Effect } from "effect"
import { StageContext } from "@embedflow/core"
import { layerModelHub } from "@embedflow/models"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { curate, expectedRatingFromTop, parseRating } from "../src/index.js"

/**
 * A stub OpenAI-compatible server on 127.0.0.1 speaking the real /v1/completions wire format:
 * prompts about dogs get top_logprobs with digits, prompts about cats get none (so the stage falls
 * back to the text), everything else answers " 1" in text.
 */
let server: http.Server
let baseUrl = ""
const requests: Array<{ prompt: Array<string>; logprobs?: number; max_tokens: number }> = []

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = ""
    req.on("data", (c) => (body += c))
    req.on("end", () => {
      const r = JSON.parse(body) as { prompt: Array<string>; logprobs?: number; max_tokens: number }
      requests.push(r)
      const choices = r.prompt.map((p, index) => {
        const dog = p.includes("dog")
        const cat = p.includes("cat")
        const top = r.logprobs ? [dog ? { " 4": Math.log(0.6), " 5": Math.log(0.2), " the": Math.log(0.2) } : { " the": -0.1, " a": -2.4 }] : null
        return {
          index,
          text: cat ? " 3, since" : " 1.",
          finish_reason: "length",
          logprobs: top ? { tokens: [Object.keys(top[0]!)[0]], token_logprobs: [-0.5], top_logprobs: top, text_offset: [p.length] } : null
        }
      })
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify({ id: "cmpl-1", object: "text_completion", model: "stub", choices }))
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

const context = StageContext.of({
  nodeId: "curate",
  stageName: curate.name,
  seed: 7,
  scratchDir: "/tmp",
  resolvePath: (p) => p,
  progress: () => Effect.void,
  metric: () => Effect.void,
  log: () => Effect.void
})

describe("ratings from an OpenAI-compatible server", () => {
  it("reads the expected digit from top logprobs and parses text", () => {
    expect(expectedRatingFromTop([{ token: " 4", logprob: Math.log(0.6) }, { token: " 5", logprob: Math.log(0.2) }, { token: "x", logprob: -1 }])).toBeCloseTo(4.25, 12)
    expect(expectedRatingFromTop([{ token: " the", logprob: -0.1 }])).toBeNaN()
    expect(parseRating(" 3, since")).toBe(3)
    expect(parseRating("Rating: 4.5/5")).toBe(4.5)
    expect(parseRating(" 7")).toBeNaN()
    expect(parseRating("none")).toBeNaN()
  })

  it("curates through the stage: logprobs where the server gives digits, text otherwise", async () => {
    requests.length = 0
    const triples = [
      { anchor: "a dog runs", positive: "a dog is running", negative: "a cat sleeps" },
      { anchor: "a man sings", positive: "someone sings" }
    ]
    const out = await Effect.runPromise(
      curate
        .run(
          {
            model: "stub",
            server: { baseUrl, model: "stub", chat: false, scoring: "logprobs", topK: 5 },
            template: "Rate 0-5: {a} || {b}. Rating:",
            digitPrefix: " ",
            hi: 3.5,
            lo: 1.5,
            requireNegative: false,
            batchSize: 8
          },
          { triples }
        )
        // The server path never loads a model, but the stage asks for the hub like every model stage.
        .pipe(Effect.provideService(StageContext, context), Effect.provide(layerModelHub()))
    )
    // Both dog prompts (the entailment, and the contradiction, whose premise is about a dog) get digits
    // in top-k: (4*.6 + 5*.2)/.8 = 4.25, so the entailment is kept and the contradiction (> lo) dropped;
    // "someone sings": no digits in top-k -> text " 1." < hi -> dropped.
    expect(out.triples).toEqual([
      { anchor: "a dog runs", positive: "a dog is running", meta: { curation: { entailmentScore: expect.closeTo(4.25, 12), contradictionScore: expect.closeTo(4.25, 12) } } }
    ])
    expect(out.report).toMatchObject({ triples: 2, kept: 1 })
    expect(requests[0]!.logprobs).toBe(5)
    expect(requests[1]!.logprobs).toBeUndefined() // the text fallback asked for a completion
  })
})
