import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"

/** The C++ class in native/src/addon.cc. Arrays are read in place; results are fresh typed arrays. */
export interface NativeIndex {
  readonly dim: number
  readonly ntotal: number
  readonly isTrained: boolean
  readonly metric: "l2" | "ip" | "other"
  train(x: Float32Array): void
  add(x: Float32Array): void
  addWithIds(x: Float32Array, ids: BigInt64Array): void
  search(q: Float32Array, k: number): { distances: Float32Array; labels: BigInt64Array }
  setParameter(name: string, value: number): void
  reconstruct(i0: number, n: number): Float32Array
  reset(): void
  write(path: string): void
  mergeFrom(other: NativeIndex): void
  cloneEmpty(): NativeIndex
  trainedStateChecksum(): string
}

export interface NativeModule {
  readonly NativeIndex: {
    new (dim: number, description: string, metric: "l2" | "ip"): NativeIndex
    read(path: string): NativeIndex
  }
  readonly setNumThreads: (n: number) => void
  readonly getNumThreads: () => number
  readonly faissVersion: string
}

const addonPath = fileURLToPath(new URL("../../native/build/Release/embedflow_faiss.node", import.meta.url))

let cached: NativeModule | undefined

/** Loads the addon built by tools/faiss-build/build.sh (once per process). */
export const native = (): NativeModule => {
  if (cached) return cached
  if (!existsSync(addonPath)) {
    throw new Error(
      `@embedflow/faiss-index: native addon not built (${addonPath} is missing); run: bash tools/faiss-build/build.sh`
    )
  }
  // libgomp reads this once, when the addon loads it. Its default (spin before sleeping) makes every
  // parallel region wait on descheduled threads when cores are shared (CI runners, parallel test
  // workers, onnxruntime's own pool): measured 10-100x slower small searches. Passive waiting costs
  // little on dedicated cores. An explicit OMP_WAIT_POLICY is respected.
  process.env.OMP_WAIT_POLICY ??= "PASSIVE"
  cached = createRequire(import.meta.url)(addonPath) as NativeModule
  return cached
}
