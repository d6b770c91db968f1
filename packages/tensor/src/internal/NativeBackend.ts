/**
 * Loads packages/tensor/native's N-API addon (OpenBLAS) as a Backend. `createRequire` of a `.node`
 * file is how Node, Bun and Deno all load N-API addons. EMBEDFLOW_TENSOR_ADDON overrides the addon's
 * path (bundled apps; tests of the fallback); EMBEDFLOW_THREADS sets OpenBLAS's thread count at load
 * (else OpenBLAS's own default: OPENBLAS_NUM_THREADS, or one thread per core).
 */
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import type { Backend } from "../Backend.js"
import { checkAdamw, checkDropout, checkLayerNorm } from "./sgemmChecks.js"

/** The C++ functions of native/src/addon.cc (positional arguments, checked there). */
interface NativeAddon {
  sgemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float32Array, aOffset: number, lda: number, b: Float32Array, bOffset: number, ldb: number,
    beta: number, c: Float32Array, cOffset: number, ldc: number
  ): void
  sgemmStridedBatched(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float32Array, aOffset: number, lda: number, strideA: number, b: Float32Array, bOffset: number, ldb: number, strideB: number,
    beta: number, c: Float32Array, cOffset: number, ldc: number, strideC: number, batch: number
  ): void
  axpy(n: number, alpha: number, x: Float32Array, xOffset: number, y: Float32Array, yOffset: number): void
  scal(n: number, alpha: number, x: Float32Array, xOffset: number): void
  dot(n: number, x: Float32Array, xOffset: number, y: Float32Array, yOffset: number): number
  adamw(
    n: number, w: Float32Array, g: Float32Array, m: Float64Array, v: Float64Array,
    lr: number, beta1: number, beta2: number, eps: number, c1: number, c2: number, decay: number
  ): void
  l2NormalizeRows(rows: number, cols: number, x: Float32Array, y: Float32Array, norms: Float64Array, eps: number): void
  l2NormalizeRowsBackward(rows: number, cols: number, y: Float32Array, dy: Float32Array, norms: Float64Array, eps: number, dx: Float32Array): void
  geluErf(n: number, x: Float32Array, y: Float32Array): void
  geluErfBackward(n: number, x: Float32Array, dy: Float32Array, dx: Float32Array): void
  dropout(
    n: number, p: number, scale: number, state: Uint32Array, x: Float32Array, xOffset: number, y: Float32Array, yOffset: number,
    keep: Uint8Array, keepOffset: number
  ): void
  layerNorm(
    rows: number, cols: number, x: Float32Array, gamma: Float32Array, beta: Float32Array, eps: number,
    y: Float32Array, xhat: Float32Array | null, rstd: Float64Array
  ): void
  layerNormBackward(
    rows: number, cols: number, dy: Float32Array, xhat: Float32Array, rstd: Float64Array, gamma: Float32Array,
    dx: Float32Array, dGamma: Float32Array | null, dBeta: Float32Array | null
  ): void
  setThreads(n: number): void
  getThreads(): number
  readonly library: string
}

const defaultAddonPath = (): string => fileURLToPath(new URL("../../native/build/Release/embedflow_tensor.node", import.meta.url))

/** EMBEDFLOW_THREADS as a thread count; undefined when unset. */
export const threadsFromEnv = (): number | undefined => {
  const raw = globalThis.process?.env?.EMBEDFLOW_THREADS
  if (raw === undefined || raw === "") return undefined
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`EMBEDFLOW_THREADS is "${raw}", expected a positive integer`)
  return n
}

let loaded: Backend | undefined

/** The native backend; throws (naming the path and the loader's reason) when the addon cannot load. */
export const loadNativeBackend = (): Backend => {
  if (loaded) return loaded
  const path = globalThis.process?.env?.EMBEDFLOW_TENSOR_ADDON || defaultAddonPath()
  let addon: NativeAddon
  try {
    addon = createRequire(import.meta.url)(path) as NativeAddon
  } catch (error) {
    throw new Error(
      `cannot load the native tensor addon ${path}: ${(error as Error).message.split("\n")[0]} (build it with \`bash packages/tensor/native/build.sh\`)`
    )
  }
  const threads = threadsFromEnv()
  if (threads !== undefined) addon.setThreads(threads)
  loaded = {
    name: "native",
    device: "cpu",
    description: addon.library,
    sgemm: (g) =>
      addon.sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.aOffset, g.lda, g.b, g.bOffset, g.ldb, g.beta, g.c, g.cOffset, g.ldc),
    sgemmStridedBatched: (g) =>
      addon.sgemmStridedBatched(
        g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.aOffset, g.lda, g.strideA, g.b, g.bOffset, g.ldb, g.strideB,
        g.beta, g.c, g.cOffset, g.ldc, g.strideC, g.batch
      ),
    axpy: (n, alpha, x, xOffset, y, yOffset) => addon.axpy(n, alpha, x, xOffset, y, yOffset),
    scal: (n, alpha, x, xOffset) => addon.scal(n, alpha, x, xOffset),
    dot: (n, x, xOffset, y, yOffset) => addon.dot(n, x, xOffset, y, yOffset),
    adamw: (w, g, m, v, h) => {
      checkAdamw(w, g, m, v)
      addon.adamw(w.length, w, g, m, v, h.lr, h.beta1, h.beta2, h.eps, h.c1, h.c2, h.decay)
    },
    l2NormalizeRows: (rows, cols, x, y, norms, eps) => addon.l2NormalizeRows(rows, cols, x, y, norms, eps),
    l2NormalizeRowsBackward: (rows, cols, y, dy, norms, eps, dx) => addon.l2NormalizeRowsBackward(rows, cols, y, dy, norms, eps, dx),
    geluErf: (n, x, y) => addon.geluErf(n, x, y),
    geluErfBackward: (n, x, dy, dx) => addon.geluErfBackward(n, x, dy, dx),
    dropout: (n, p, scale, state, x, xOffset, y, yOffset, keep, keepOffset) => {
      checkDropout(n, p, state, x, xOffset, y, yOffset, keep, keepOffset)
      addon.dropout(n, p, scale, state, x, xOffset, y, yOffset, keep, keepOffset)
    },
    layerNorm: (rows, cols, x, gamma, beta, eps, y, xhat, rstd) => {
      checkLayerNorm("layerNorm", rows, cols, rstd, [["x", x], ["y", y], ["xhat", xhat]], [["gamma", gamma], ["beta", beta]])
      addon.layerNorm(rows, cols, x, gamma, beta, eps, y, xhat ?? null, rstd)
    },
    layerNormBackward: (rows, cols, dy, xhat, rstd, gamma, dx, dGamma, dBeta) => {
      checkLayerNorm("layerNormBackward", rows, cols, rstd, [["dy", dy], ["xhat", xhat], ["dx", dx]], [["gamma", gamma], ["dGamma", dGamma], ["dBeta", dBeta]])
      addon.layerNormBackward(rows, cols, dy, xhat, rstd, gamma, dx, dGamma ?? null, dBeta ?? null)
    },
    threads: () => addon.getThreads(),
    setThreads: (n) => addon.setThreads(n)
  }
  return loaded
}
