import { encoderConfig, type EncoderConfig, makeEncoder } from "@embedflow/models"
import { Effect } from "effect"
import { join } from "node:path"
import { inject } from "vitest"

export const tiny = (name: "tiny-bert" | "tiny-bert-cross" | "tiny-gpt2"): string => join(inject("tinyModels"), name)

/** The in-process Encoder's vectors for `texts` (the reference the server must reproduce). */
export const embedInProcess = (config: Partial<EncoderConfig> & { readonly model: string }, texts: ReadonlyArray<string>) =>
  Effect.runPromise(Effect.scoped(Effect.flatMap(makeEncoder(encoderConfig(config)), (e) => Effect.map(e.embed(texts), (v) => ({ dim: e.dim, vectors: v })))))

export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

export const post = (url: string, body: string, headers: Record<string, string> = { "content-type": "application/json" }) =>
  fetch(url, { method: "POST", body, headers })
