import { Effect, Logger, type Scope } from "effect"
import { join } from "node:path"
import { inject } from "vitest"

export const tinyDir = (): string => inject("tinyModels")
export const tiny = (name: "tiny-bert" | "tiny-bert-cross" | "tiny-gpt2"): string => join(tinyDir(), name)

/** Runs a scoped effect to a promise. */
export const run = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>): Promise<A> => Effect.runPromise(Effect.scoped(effect))

/** Runs a scoped effect and returns its result with the warning messages it logged. */
export const runLogged = async <A, E>(effect: Effect.Effect<A, E, Scope.Scope>): Promise<{ value: A; warnings: Array<string> }> => {
  const warnings: Array<string> = []
  const logger = Logger.make(({ logLevel, message }) => {
    if (logLevel === "Warn") warnings.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
  })
  const value = await Effect.runPromise(Effect.scoped(effect).pipe(Effect.provide(Logger.layer([logger]))))
  return { value, warnings }
}

export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

export const logSoftmax = (row: ArrayLike<number>): Float64Array => {
  let m = -Infinity
  for (let i = 0; i < row.length; i++) m = Math.max(m, row[i])
  let s = 0
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i] - m)
  const lse = m + Math.log(s)
  return Float64Array.from(row as ArrayLike<number>, (v) => v - lse)
}
