import { Rng } from "@embedflow/tensor"
import { Effect, type Scope } from "effect"
import * as ort from "onnxruntime-node"
import type { CausalLMOptions, CausalLMShape, Decoder, GenerateOptions, LogLikelihood } from "../CausalLM.js"
import { ModelError } from "../ModelError.js"
import { planBatches } from "./batching.js"
import { emptyPast, type FeedPlan, planFeeds, rightPadded, useCacheBranch } from "./feeds.js"
import { resolveModelFolder } from "./folder.js"
import { logSoftmaxAt, pickToken } from "./logits.js"
import { eosTokenId, type HfConfig, maxPositions, readJson, vocabSize } from "./modelConfig.js"
import { openSession, runSession, type Session } from "./session.js"
import { loadTokenizer, type Tokenizer } from "./tokenizer.js"

/** Logits floats kept per forward pass in logLikelihood (256 MB). */
const LOGITS_BUDGET = 1 << 26

export const makeCausalLM = (model: string, options: CausalLMOptions = {}): Effect.Effect<CausalLMShape, ModelError, Scope.Scope> =>
  Effect.gen(function* () {
    const folder = yield* resolveModelFolder(model, options)
    const hf = yield* readJson(model, folder.dir, "config.json")
    const gen: HfConfig = yield* readJson(model, folder.dir, "generation_config.json").pipe(Effect.orElseSucceed(() => ({})))
    const tokenizer = yield* loadTokenizer(model, folder.dir)
    const session = yield* openSession(model, folder.dir, options)
    if (!session.outputNames.includes("logits")) {
      return yield* new ModelError({ message: `model "${model}": the ONNX graph has no logits output (outputs: ${session.outputNames.join(", ")}); a causal LM export is expected`, model, file: "onnx/model.onnx" })
    }
    const plan = yield* planFeeds(model, session, hf)
    const missingPresent = plan.pastNames.map((n) => n.replace("past_key_values", "present")).filter((n) => !session.outputNames.includes(n))
    if (missingPresent.length > 0) {
      return yield* new ModelError({ message: `model "${model}": the graph takes past_key_values.* but lacks the outputs ${missingPresent.join(", ")}`, model, file: "onnx/model.onnx" })
    }
    const logitsShape = session.shapeOf("logits")
    const V = typeof logitsShape?.[2] === "number" ? logitsShape[2] : vocabSize(hf)
    if (V === undefined) {
      return yield* new ModelError({ message: `model "${model}": config.json has no vocab_size and the logits output has no fixed vocabulary dimension`, model, file: "config.json" })
    }
    const maxPos = maxPositions(hf) ?? Infinity
    const eos = eosTokenId(gen, hf) ?? tokenizer.eosId
    const lm = new Lm(model, session, plan, tokenizer, V, maxPos)
    let warnedTruncation = false
    const warnTruncation = (n: number) =>
      Effect.suspend(() => {
        if (warnedTruncation || n === 0) return Effect.void
        warnedTruncation = true
        return Effect.logWarning(`causal LM "${model}": ${n} sequences exceed the model's ${maxPos} positions; their prompts were cut from the left (reported once per model)`)
      })

    const openDecoder = (prompts: ReadonlyArray<string>): Effect.Effect<DecodeState["decoder"], ModelError, Scope.Scope> =>
      Effect.gen(function* () {
        if (prompts.length === 0) return yield* new ModelError({ message: `causal LM "${model}": decoder() needs at least one prompt`, model })
        const rows = prompts.map((p) => lm.promptIds(p))
        const cut = rows.filter((r) => r.length > maxPos - 1).length
        yield* warnTruncation(cut)
        const state = yield* Effect.acquireRelease(lm.start(rows.map((r) => (r.length > maxPos - 1 ? r.slice(r.length - (maxPos - 1)) : r))), (s) =>
          Effect.sync(() => s.close())
        )
        return state.decoder
      })

    const decoder = (prompts: ReadonlyArray<string>): Effect.Effect<Decoder, ModelError, Scope.Scope> => openDecoder(prompts)

    const logLikelihood = (
      pairs: ReadonlyArray<{ readonly prompt: string; readonly continuation: string }>
    ): Effect.Effect<ReadonlyArray<LogLikelihood>, ModelError> =>
      Effect.gen(function* () {
        const rows = pairs.map(({ prompt, continuation }) => {
          const p = lm.promptIds(prompt)
          const c = tokenizer.encodePlain(continuation)
          const room = Math.max(1, maxPos - c.length)
          const kept = p.length > room ? p.slice(p.length - room) : p
          return { ids: [...kept, ...c].slice(0, maxPos), promptLength: kept.length, cut: p.length > room }
        })
        yield* warnTruncation(rows.filter((r) => r.cut).length)
        const results: Array<LogLikelihood> = rows.map(() => ({ total: 0, tokens: 0 }))
        const budget = Math.max(1, Math.min(options.maxTokensPerBatch ?? 8192, Math.floor(LOGITS_BUDGET / V)))
        for (const batch of planBatches(rows.map((r) => r.ids.length), budget)) {
          const padded = rightPadded(plan, batch.map((i) => rows[i]), tokenizer.padId)
          const out = yield* runSession(model, session, padded.feeds)
          const logits = out.logits.data as Float32Array
          batch.forEach((i, r) => {
            const { ids, promptLength } = rows[i]
            let total = 0
            for (let t = promptLength; t < ids.length; t++) total += logSoftmaxAt(logits, (r * padded.seq + t - 1) * V, V, ids[t])
            results[i] = { total, tokens: ids.length - promptLength }
          })
        }
        return results
      })

    const generate = (prompts: ReadonlyArray<string>, opts: GenerateOptions): Effect.Effect<ReadonlyArray<string>, ModelError> =>
      Effect.scoped(
        Effect.gen(function* () {
          if (prompts.length === 0) return []
          const d = yield* openDecoder(prompts)
          // Row i samples from the i-th fork of the seed's stream, whatever the other rows are.
          const root = new Rng(Math.trunc(opts.seed))
          const rngs = prompts.map(() => root.fork())
          const generated: Array<Array<number>> = prompts.map(() => [])
          const texts: Array<string | undefined> = prompts.map(() => undefined)
          const filler = eos ?? tokenizer.padId
          const limit = Math.min(opts.maxNewTokens, Math.max(0, maxPos - d.position))
          for (let step = 0; step < limit; step++) {
            const logits = d.logits()
            const next = prompts.map((_, i) => {
              if (texts[i] !== undefined) return filler
              const tok = pickToken(logits, i * V, V, rngs[i], opts.temperature, opts.topP)
              if (tok === eos) {
                texts[i] = tokenizer.decode(generated[i])
                return filler
              }
              generated[i].push(tok)
              if (opts.stop && opts.stop.length > 0) {
                const text = tokenizer.decode(generated[i])
                let at = -1
                for (const s of opts.stop) {
                  const k = s.length > 0 ? text.indexOf(s) : -1
                  if (k >= 0 && (at < 0 || k < at)) at = k
                }
                if (at >= 0) texts[i] = text.slice(0, at)
              }
              return tok
            })
            if (texts.every((t) => t !== undefined) || step === limit - 1) break
            yield* d.step(next)
          }
          return texts.map((t, i) => t ?? tokenizer.decode(generated[i]))
        })
      )

    return {
      model,
      vocabSize: V,
      eosTokenId: eos,
      encode: (text) => tokenizer.encodePlain(text),
      decode: (ids) => tokenizer.decode(ids),
      decoder,
      logLikelihood,
      generate
    } satisfies CausalLMShape
  })

/** Running state of one batch being decoded. */
interface DecodeState {
  readonly decoder: Decoder & { readonly position: number }
  readonly close: () => void
}

class Lm {
  constructor(
    readonly model: string,
    readonly session: Session,
    readonly plan: FeedPlan,
    readonly tokenizer: Tokenizer,
    readonly V: number,
    readonly maxPos: number
  ) {}

  /** Prompt tokens with the tokenizer's special tokens; an empty prompt starts from BOS (or EOS, as GPT-2 does). */
  promptIds(text: string): Array<number> {
    const ids = this.tokenizer.encode(text).ids
    if (ids.length > 0) return ids
    const start = this.tokenizer.bosId ?? this.tokenizer.eosId
    return start === undefined ? [this.tokenizer.padId] : [start]
  }

  /** Runs left-padded prompts and returns a decoder positioned after them. */
  start(rows: ReadonlyArray<ReadonlyArray<number>>): Effect.Effect<DecodeState, ModelError> {
    const { model, session, plan, tokenizer, V, maxPos } = this
    const B = rows.length
    const cached = plan.pastNames.length > 0
    return Effect.gen(function* () {
      let T = 0
      for (const r of rows) T = Math.max(T, r.length)
      // Left padding: every row's last real token is in the last column, and position ids count real tokens only.
      let ids = new BigInt64Array(B * T).fill(BigInt(tokenizer.padId))
      let mask = new BigInt64Array(B * T)
      let positions = new BigInt64Array(B * T)
      const nextPos = new Array<number>(B)
      for (let b = 0; b < B; b++) {
        const r = rows[b]
        const off = b * T + (T - r.length)
        for (let t = 0; t < r.length; t++) {
          ids[off + t] = BigInt(r[t])
          mask[off + t] = 1n
          positions[off + t] = BigInt(t)
        }
        nextPos[b] = r.length
      }
      const first = yield* runSession(model, session, {
        input_ids: new ort.Tensor("int64", ids, [B, T]),
        attention_mask: new ort.Tensor("int64", mask, [B, T]),
        position_ids: new ort.Tensor("int64", positions, [B, T]),
        ...emptyPast(plan, B),
        ...useCacheBranch(plan, false)
      })
      let past = cached ? presentOf(plan, first) : undefined
      let current = lastLogits(first.logits, B, V)
      let closed = false
      let busy = false

      const step = (tokens: ReadonlyArray<number>): Effect.Effect<void, ModelError> =>
        Effect.gen(function* () {
          if (closed) return yield* new ModelError({ message: `decoder of "${model}" used after its scope closed`, model })
          if (busy) return yield* new ModelError({ message: `decoder of "${model}": step() called while a step is running; steps must be sequential`, model })
          if (tokens.length !== B) return yield* new ModelError({ message: `decoder of "${model}": step() got ${tokens.length} tokens for a batch of ${B}`, model })
          const bad = tokens.find((t) => !(Number.isInteger(t) && t >= 0 && t < V))
          if (bad !== undefined) return yield* new ModelError({ message: `decoder of "${model}": token id ${bad} is outside the vocabulary [0, ${V})`, model })
          if (T + 1 > maxPos) return yield* new ModelError({ message: `decoder of "${model}": the sequence reached the model's maximum of ${maxPos} positions`, model })
          busy = true
          const T1 = T + 1
          const mask1 = new BigInt64Array(B * T1)
          for (let b = 0; b < B; b++) {
            mask1.set(mask.subarray(b * T, b * T + T), b * T1)
            mask1[b * T1 + T] = 1n
          }
          const tok = BigInt64Array.from(tokens, BigInt)
          const pos = BigInt64Array.from(nextPos, BigInt)
          let feeds: Record<string, ort.Tensor>
          if (cached) {
            feeds = {
              input_ids: new ort.Tensor("int64", tok, [B, 1]),
              attention_mask: new ort.Tensor("int64", mask1, [B, T1]),
              position_ids: new ort.Tensor("int64", pos, [B, 1]),
              ...past!,
              ...useCacheBranch(plan, true)
            }
          } else {
            // No KV cache in this export: recompute the whole sequence.
            const ids1 = new BigInt64Array(B * T1)
            const pos1 = new BigInt64Array(B * T1)
            for (let b = 0; b < B; b++) {
              ids1.set(ids.subarray(b * T, b * T + T), b * T1)
              ids1[b * T1 + T] = tok[b]
              pos1.set(positions.subarray(b * T, b * T + T), b * T1)
              pos1[b * T1 + T] = pos[b]
            }
            ids = ids1
            positions = pos1
            feeds = {
              input_ids: new ort.Tensor("int64", ids1, [B, T1]),
              attention_mask: new ort.Tensor("int64", mask1, [B, T1]),
              position_ids: new ort.Tensor("int64", pos1, [B, T1]),
              ...useCacheBranch(plan, false)
            }
          }
          const out = yield* runSession(model, session, feeds).pipe(Effect.ensuring(Effect.sync(() => (busy = false))))
          if (closed) return yield* new ModelError({ message: `decoder of "${model}" used after its scope closed`, model })
          mask = mask1
          T = T1
          for (let b = 0; b < B; b++) nextPos[b]++
          if (cached) past = presentOf(plan, out)
          current = lastLogits(out.logits, B, V)
        })

      const decoder = {
        batch: B,
        vocabSize: V,
        logits: () => current,
        step,
        get position() {
          return T
        }
      }
      return {
        decoder,
        close: () => {
          closed = true
          past = undefined
        }
      }
    })
  }
}

const presentOf = (plan: FeedPlan, out: ort.InferenceSession.ReturnType): Record<string, ort.Tensor> => {
  const past: Record<string, ort.Tensor> = {}
  for (const name of plan.pastNames) {
    const present = out[name.replace("past_key_values", "present")]
    past[name] = present as ort.Tensor
  }
  return past
}

/** The last position's logits of each row, [B x V]. */
const lastLogits = (t: ort.Tensor, B: number, V: number): Float32Array => {
  const data = t.data as Float32Array
  const S = t.dims[1]
  const out = new Float32Array(B * V)
  for (let b = 0; b < B; b++) out.set(data.subarray((b * S + S - 1) * V, (b * S + S) * V), b * V)
  return out
}
