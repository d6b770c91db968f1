/**
 * The HTTP API's requests and responses: OpenAI's `/v1/embeddings` and `/v1/models`, and
 * text-embeddings-inference's `/rerank` (`{ query, texts, raw_scores?, return_text? }` →
 * `[{ index, score, text? }]` best first). Bodies are decoded with Effect Schema; every refusal is
 * an `ApiError` with the status and an OpenAI-style error body naming the field.
 */
import { Schema } from "effect"
import { QueueFullError } from "./Batcher.js"
import type { EmbeddingModel, RerankModel, ServedModel } from "./ServedModel.js"

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = "invalid_request_error",
    readonly param: string | null = null,
    readonly headers: Readonly<Record<string, string>> = {}
  ) {
    super(message)
  }
  body() {
    return { error: { message: this.message, type: this.type, param: this.param, code: null } }
  }
}

export const EmbeddingsRequest = Schema.Struct({
  model: Schema.optional(Schema.String),
  input: Schema.Union([Schema.String, Schema.Array(Schema.String)]),
  encoding_format: Schema.optional(Schema.Literals(["float", "base64"])),
  dimensions: Schema.optional(Schema.Int),
  user: Schema.optional(Schema.String)
})

export const RerankRequest = Schema.Struct({
  model: Schema.optional(Schema.String),
  query: Schema.String,
  texts: Schema.Array(Schema.String),
  raw_scores: Schema.optional(Schema.Boolean),
  return_text: Schema.optional(Schema.Boolean),
  truncate: Schema.optional(Schema.NullOr(Schema.Boolean))
})

const decode = <A>(schema: Schema.Codec<A, unknown>, body: unknown, what: string): A => {
  try {
    return Schema.decodeUnknownSync(schema)(body)
  } catch (e) {
    const message = e instanceof Error ? e.message.replace(/\s*\n\s*/g, " ") : String(e)
    const param = /at \["([^"]+)"\]/.exec(message)?.[1] ?? null
    throw new ApiError(400, `invalid ${what} request: ${message}`, "invalid_request_error", param)
  }
}

const pick = <K extends ServedModel["kind"]>(models: ReadonlyMap<string, ServedModel>, name: string | undefined, kind: K, route: string): Extract<ServedModel, { kind: K }> => {
  const ofKind = [...models.values()].filter((m): m is Extract<ServedModel, { kind: K }> => m.kind === kind)
  if (name === undefined) {
    if (ofKind.length === 1) return ofKind[0]!
    throw new ApiError(400, `'model' is required: this server has ${ofKind.length} ${kind} models (${ofKind.map((m) => m.id).join(", ") || "none"})`, "invalid_request_error", "model")
  }
  const m = models.get(name)
  if (m === undefined) throw new ApiError(404, `The model '${name}' does not exist; served: ${[...models.keys()].join(", ")}`, "invalid_request_error", "model")
  if (m.kind !== kind) throw new ApiError(400, `model '${name}' is a ${m.kind} model; ${route} needs a ${kind} model`, "invalid_request_error", "model")
  return m as Extract<ServedModel, { kind: K }>
}

const submit = <I, O>(model: { readonly id: string; readonly batcher: { submit(inputs: ReadonlyArray<I>): Promise<Array<O>> } }, inputs: ReadonlyArray<I>): Promise<Array<O>> => {
  try {
    return model.batcher.submit(inputs)
  } catch (e) {
    if (e instanceof QueueFullError) {
      throw new ApiError(429, `model '${model.id}' is overloaded: ${e.message}`, "rate_limit_error", null, { "retry-after": String(e.retryAfterSeconds) })
    }
    throw e
  }
}

export interface Limits {
  readonly maxInputs: number
}

/** Truncates to the first `k` components and L2-normalises (Matryoshka); a copy. */
export const truncateAndNormalize = (v: Float32Array, k: number): Float32Array => {
  const out = v.slice(0, k)
  let s = 0
  for (let i = 0; i < k; i++) s += out[i]! * out[i]!
  const scale = 1 / Math.max(Math.sqrt(s), 1e-12)
  for (let i = 0; i < k; i++) out[i]! *= scale
  return out
}

const toBase64 = (v: Float32Array): string => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64")

export const embeddings = async (models: ReadonlyMap<string, ServedModel>, body: unknown, limits: Limits) => {
  const req = decode(EmbeddingsRequest, body, "embeddings")
  const model: EmbeddingModel = pick(models, req.model, "embedding", "/v1/embeddings")
  const texts = typeof req.input === "string" ? [req.input] : req.input
  if (texts.length === 0) throw new ApiError(400, "'input' must not be an empty array", "invalid_request_error", "input")
  if (texts.length > limits.maxInputs) throw new ApiError(400, `'input' has ${texts.length} items; at most ${limits.maxInputs} per request`, "invalid_request_error", "input")
  if (req.dimensions !== undefined && !(req.dimensions >= 1 && req.dimensions <= model.dim)) {
    throw new ApiError(400, `'dimensions' must be between 1 and ${model.dim} (the model's size), got ${req.dimensions}`, "invalid_request_error", "dimensions")
  }
  const tokenized = texts.map(model.tokenize)
  const vectors = await submit(model, tokenized)
  const tokens = tokenized.reduce((s, t) => s + t.ids.length, 0)
  const base64 = req.encoding_format === "base64"
  return {
    object: "list",
    data: vectors.map((v, index) => {
      const out = req.dimensions !== undefined && req.dimensions < model.dim ? truncateAndNormalize(v, req.dimensions) : v
      return { object: "embedding", index, embedding: base64 ? toBase64(out) : Array.from(out) }
    }),
    model: model.id,
    usage: { prompt_tokens: tokens, total_tokens: tokens }
  }
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x))

export const rerank = async (models: ReadonlyMap<string, ServedModel>, body: unknown, limits: Limits) => {
  const req = decode(RerankRequest, body, "rerank")
  const model: RerankModel = pick(models, req.model, "rerank", "/rerank")
  if (req.texts.length === 0) throw new ApiError(400, "'texts' must not be empty", "invalid_request_error", "texts")
  if (req.texts.length > limits.maxInputs) throw new ApiError(400, `'texts' has ${req.texts.length} items; at most ${limits.maxInputs} per request`, "invalid_request_error", "texts")
  const scores = await submit(model, req.texts.map((t) => [req.query, t] as const))
  return scores
    .map((raw, index) => ({ index, score: req.raw_scores === true ? raw : sigmoid(raw), ...(req.return_text === true ? { text: req.texts[index] } : {}) }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
}

export const listModels = (models: ReadonlyMap<string, ServedModel>, created: number) => ({
  object: "list",
  data: [...models.values()].map((m) => ({
    id: m.id,
    object: "model",
    created,
    owned_by: "embedflow",
    ...(m.kind === "embedding" ? { kind: m.kind, dimensions: m.dim } : { kind: m.kind })
  }))
})
