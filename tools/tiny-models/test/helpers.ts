import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { buildTinyModels } from "../src/index.js"

const made: Array<string> = []
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true })
})

/** A temporary folder removed after the test file. */
export const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}

/** Builds the tiny models into a fresh temporary folder (each test file gets its own). */
export const buildTemp = (): string => {
  const dir = tempDir("tiny-models-")
  buildTinyModels(dir)
  return dir
}

export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

export const softmax = (logits: ArrayLike<number>): Float64Array => {
  let m = -Infinity
  for (let i = 0; i < logits.length; i++) m = Math.max(m, logits[i])
  const e = Float64Array.from(logits as ArrayLike<number>, (v) => Math.exp(v - m))
  const z = e.reduce((a, c) => a + c, 0)
  return e.map((v) => v / z)
}
