import { Context, Effect, Layer, type Scope } from "effect"
import type { CausalLMShape, GenerateOptions, LogLikelihood } from "./CausalLM.js"
import { CausalLM } from "./CausalLM.js"
import { resolveModelFolder, TOKENIZER_FILES } from "./internal/folder.js"
import { loadTokenizer, type Tokenizer } from "./internal/tokenizer.js"
import { ModelError } from "./ModelError.js"
import type { LoadOptions } from "./ModelSource.js"

/** An OpenAI-compatible server (OpenAI, vLLM, llama.cpp server, TGI, Ollama's /v1...). */
export interface OpenAiCausalLMOptions {
  /** Up to and including the API version, e.g. "http://127.0.0.1:8000/v1". */
  readonly baseUrl: string
  /** The server-side model name sent in each request. */
  readonly model: string
  /** Bearer token; default `$OPENAI_API_KEY` (none when unset). */
  readonly apiKey?: string | undefined
  /** "completions" (default) sends raw prompts to /completions; "chat" sends each prompt as one user message to /chat/completions. */
  readonly generateWith?: "completions" | "chat" | undefined
  /** Prompts per /completions request. Default 16. */
  readonly batchSize?: number | undefined
  /** Requests in flight at once. Default 4. */
  readonly concurrency?: number | undefined
  readonly timeoutMs?: number | undefined
  /** A local tokenizer folder for encode/decode/vocabSize (the server's own tokenizer is not reachable). */
  readonly tokenizer?: string | undefined
  readonly tokenizerLoadOptions?: LoadOptions | undefined
}

export interface TopLogprob {
  readonly token: string
  readonly logprob: number
}

/** The CausalLM contract plus what a server gives cheaply: the top-k next tokens with log-probabilities. */
export interface OpenAiCausalLMShape extends CausalLMShape {
  readonly nextTokenTopLogprobs: (prompts: ReadonlyArray<string>, k: number) => Effect.Effect<ReadonlyArray<ReadonlyArray<TopLogprob>>, ModelError>
}

export class OpenAiCausalLM extends Context.Service<OpenAiCausalLM, OpenAiCausalLMShape>()("@embedflow/models/OpenAiCausalLM") {}

interface CompletionChoice {
  readonly index: number
  readonly text: string
  readonly finish_reason?: string | null
  readonly logprobs?: {
    readonly tokens: ReadonlyArray<string>
    readonly token_logprobs: ReadonlyArray<number | null>
    readonly top_logprobs?: ReadonlyArray<Record<string, number> | null> | null
    readonly text_offset: ReadonlyArray<number>
  } | null
}

/**
 * A CausalLM backed by an OpenAI-compatible HTTP server: `generate` via /completions (or
 * /chat/completions), `logLikelihood` via /completions with `echo` + `logprobs` (servers that
 * support it: vLLM, llama.cpp, legacy OpenAI completions models). `decoder` fails: raw
 * next-token logits need a local model.
 */
export const makeOpenAiCausalLM = (options: OpenAiCausalLMOptions): Effect.Effect<OpenAiCausalLMShape, ModelError, Scope.Scope> =>
  Effect.gen(function* () {
    const name = `${options.baseUrl} (${options.model})`
    const apiKey = options.apiKey ?? process.env.OPENAI_API_KEY
    const batchSize = Math.max(1, options.batchSize ?? 16)
    const concurrency = Math.max(1, options.concurrency ?? 4)
    let tokenizer: Tokenizer | undefined
    if (options.tokenizer !== undefined) {
      const folder = yield* resolveTokenizerFolder(options.tokenizer, options.tokenizerLoadOptions ?? {})
      tokenizer = yield* loadTokenizer(options.tokenizer, folder)
    }

    const post = <A>(path: string, body: object): Effect.Effect<A, ModelError> =>
      Effect.tryPromise({
        try: async (signal) => {
          const url = `${options.baseUrl.replace(/\/$/, "")}${path}`
          const timeout = AbortSignal.timeout(options.timeoutMs ?? 120_000)
          const res = await fetch(url, {
            method: "POST",
            signal: AbortSignal.any([signal, timeout]),
            headers: { "content-type": "application/json", ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
            body: JSON.stringify({ model: options.model, ...body })
          })
          const text = await res.text()
          if (!res.ok) throw new ModelError({ message: `LLM server ${url}: HTTP ${res.status}: ${text.slice(0, 300)}`, model: name })
          try {
            return JSON.parse(text) as A
          } catch {
            throw new ModelError({ message: `LLM server ${url}: response is not JSON: ${text.slice(0, 200)}`, model: name })
          }
        },
        catch: (e) => (e instanceof ModelError ? e : new ModelError({ message: `LLM server ${options.baseUrl}: request failed: ${String(e)}`, model: name, cause: e }))
      })

    const completions = (prompts: ReadonlyArray<string>, body: object): Effect.Effect<Array<CompletionChoice>, ModelError> =>
      Effect.forEach(
        chunk(prompts, batchSize),
        (part) =>
          post<{ choices?: Array<CompletionChoice> }>("/completions", { prompt: part, ...body }).pipe(
            Effect.flatMap((r) => {
              const choices = [...(r.choices ?? [])].sort((a, b) => a.index - b.index)
              return choices.length === part.length
                ? Effect.succeed(choices)
                : Effect.fail(new ModelError({ message: `LLM server ${options.baseUrl}: /completions returned ${choices.length} choices for ${part.length} prompts`, model: name }))
            })
          ),
        { concurrency }
      ).pipe(Effect.map((parts) => parts.flat()))

    const sampling = (o: GenerateOptions) => ({
      max_tokens: o.maxNewTokens,
      temperature: o.temperature ?? 0,
      ...(o.topP !== undefined ? { top_p: o.topP } : {}),
      seed: o.seed,
      // OpenAI accepts at most 4 stop sequences; all of them are also applied below.
      ...(o.stop && o.stop.length > 0 ? { stop: o.stop.slice(0, 4) } : {})
    })

    const generate = (prompts: ReadonlyArray<string>, o: GenerateOptions): Effect.Effect<ReadonlyArray<string>, ModelError> => {
      if (prompts.length === 0 || o.maxNewTokens <= 0) return Effect.succeed(prompts.map(() => ""))
      const texts =
        options.generateWith === "chat"
          ? Effect.forEach(
              prompts,
              (p) =>
                post<{ choices?: Array<{ message?: { content?: string | null } }> }>("/chat/completions", {
                  messages: [{ role: "user", content: p }],
                  ...sampling(o)
                }).pipe(Effect.map((r) => r.choices?.[0]?.message?.content ?? "")),
              { concurrency }
            )
          : completions(prompts, sampling(o)).pipe(Effect.map((cs) => cs.map((c) => c.text)))
      return texts.pipe(Effect.map((ts) => ts.map((t) => cutAtStop(t, o.stop))))
    }

    const logLikelihood = (
      pairs: ReadonlyArray<{ readonly prompt: string; readonly continuation: string }>
    ): Effect.Effect<ReadonlyArray<LogLikelihood>, ModelError> =>
      completions(
        pairs.map((p) => p.prompt + p.continuation),
        { max_tokens: 1, temperature: 0, echo: true, logprobs: 1 }
      ).pipe(
        Effect.flatMap((choices) =>
          Effect.forEach(choices, (c, i) => {
            const { prompt, continuation } = pairs[i]
            const lp = c.logprobs
            if (!lp || !Array.isArray(lp.text_offset) || !Array.isArray(lp.token_logprobs)) {
              return Effect.fail(
                new ModelError({
                  message: `LLM server ${options.baseUrl}: /completions with echo+logprobs returned no prompt logprobs, so logLikelihood is unsupported by this server; use a local model`,
                  model: name
                })
              )
            }
            // Continuation tokens: those starting inside the continuation (echo returns the prompt's tokens first).
            const start = prompt.length
            const end = prompt.length + continuation.length
            let total = 0
            let tokens = 0
            for (let t = 0; t < lp.tokens.length; t++) {
              const off = lp.text_offset[t]
              if (off < start || off >= end) continue
              const v = lp.token_logprobs[t]
              if (v === null || v === undefined) {
                return Effect.fail(new ModelError({ message: `LLM server ${options.baseUrl}: no logprob for continuation token ${JSON.stringify(lp.tokens[t])}`, model: name }))
              }
              total += v
              tokens++
            }
            return Effect.succeed({ total, tokens })
          })
        )
      )

    const nextTokenTopLogprobs = (prompts: ReadonlyArray<string>, k: number) =>
      completions(prompts, { max_tokens: 1, temperature: 0, logprobs: k }).pipe(
        Effect.flatMap((choices) =>
          Effect.forEach(choices, (c) => {
            const top = c.logprobs?.top_logprobs?.[0]
            if (!top) {
              return Effect.fail(new ModelError({ message: `LLM server ${options.baseUrl}: /completions returned no top_logprobs (logprobs=${k})`, model: name }))
            }
            return Effect.succeed(
              Object.entries(top)
                .map(([token, logprob]) => ({ token, logprob }))
                .sort((a, b) => b.logprob - a.logprob)
            )
          })
        )
      )

    const needTokenizer = (what: string): never => {
      throw new ModelError({
        message: `OpenAI-compatible backend ${name}: ${what} needs a local tokenizer; pass the tokenizer option (a folder with tokenizer.json)`,
        model: name
      })
    }

    return {
      model: name,
      vocabSize: tokenizer ? tokenizer.raw.get_vocab().size : 0,
      eosTokenId: tokenizer?.eosId,
      encode: (text) => (tokenizer ? tokenizer.encodePlain(text) : needTokenizer("encode")),
      decode: (ids) => (tokenizer ? tokenizer.decode(ids) : needTokenizer("decode")),
      decoder: () =>
        Effect.fail(
          new ModelError({
            message: `OpenAI-compatible backend ${name}: decoder() needs raw next-token logits, which an HTTP API does not expose; use a local ONNX model (makeCausalLM) for step-wise decoding`,
            model: name
          })
        ),
      logLikelihood,
      generate,
      nextTokenTopLogprobs
    } satisfies OpenAiCausalLMShape
  })

/** Provides both CausalLM and OpenAiCausalLM from one server. */
export const layerOpenAiCausalLM = (options: OpenAiCausalLMOptions): Layer.Layer<CausalLM | OpenAiCausalLM, ModelError> =>
  Layer.effectContext(
    makeOpenAiCausalLM(options).pipe(Effect.map((lm) => Context.make(OpenAiCausalLM, lm).pipe(Context.add(CausalLM, lm))))
  )

const resolveTokenizerFolder = (tokenizer: string, load: LoadOptions) =>
  resolveModelFolder(tokenizer, load, TOKENIZER_FILES).pipe(Effect.map((r) => r.dir))

const chunk = <A>(xs: ReadonlyArray<A>, n: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n))
  return out
}

const cutAtStop = (text: string, stop: ReadonlyArray<string> | undefined): string => {
  let at = text.length
  for (const s of stop ?? []) {
    const k = s.length > 0 ? text.indexOf(s) : -1
    if (k >= 0 && k < at) at = k
  }
  return text.slice(0, at)
}
