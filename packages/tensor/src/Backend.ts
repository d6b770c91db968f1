/**
 * The compute backend: the hot kernels (sgemm in every layout, strided-batched sgemm for attention
 * heads, BLAS level-1 ops) behind one interface, so `matmul` and the layers above it run on whichever
 * implementation this runtime has.
 *
 * - "native": an N-API addon over OpenBLAS (packages/tensor/native), multi-threaded; loads under
 *   Node, Bun and Deno.
 * - "ts": the pure-TypeScript kernels, single-threaded; always available.
 *
 * Selection (once, at the first kernel call): `EMBEDFLOW_BACKEND=native|ts` forces one (a forced
 * native backend that cannot load is an error); unset, the native backend is used when it loads and
 * the TypeScript one otherwise, with one warning. `EMBEDFLOW_THREADS` sets the native thread count.
 *
 * All operands are row-major float32 on the host. A GPU backend implements the same interface (see
 * the package README's CUDA plan); `device` says where its kernels run.
 */
import { loadNativeBackend, threadsFromEnv } from "./internal/NativeBackend.js"
import { tsBackend } from "./internal/TsBackend.js"

/**
 * C = alpha·op(A)·op(B) + beta·C on row-major storage, op(X) = Xᵀ when transX. op(A) is m x k,
 * op(B) is k x n, C is m x n. Each operand starts at its `*Offset` element of its array and its rows
 * are `ld*` elements apart (so head slices and sub-blocks of a larger matrix need no copy).
 * beta = 0 overwrites C without reading it. C must not share memory with A or B.
 */
export interface SgemmArgs {
  readonly transA: boolean
  readonly transB: boolean
  readonly m: number
  readonly n: number
  readonly k: number
  readonly alpha: number
  readonly a: Float32Array
  readonly aOffset: number
  readonly lda: number
  readonly b: Float32Array
  readonly bOffset: number
  readonly ldb: number
  readonly beta: number
  readonly c: Float32Array
  readonly cOffset: number
  readonly ldc: number
}

/** `batch` independent products; operand i starts `stride*` elements after operand i - 1. */
export interface BatchedSgemmArgs extends SgemmArgs {
  readonly batch: number
  readonly strideA: number
  readonly strideB: number
  readonly strideC: number
}

/** One AdamW step's constants: c1 = 1 − β1^t, c2 = 1 − β2^t, decay = 1 − lr·λ (1 when exempt). */
export interface AdamwConstants {
  readonly lr: number
  readonly beta1: number
  readonly beta2: number
  readonly eps: number
  readonly c1: number
  readonly c2: number
  readonly decay: number
}

export type BackendName = "native" | "ts"

export interface Backend {
  readonly name: BackendName
  /**
   * Where the kernels run. "cuda" is reserved for the planned cuBLAS backend (README: CUDA plan),
   * which copies host operands to device memory per call until layers keep device-resident tensors.
   */
  readonly device: "cpu" | "cuda"
  /** Human-readable description (library, version, CPU core). */
  readonly description: string
  sgemm(args: SgemmArgs): void
  sgemmStridedBatched(args: BatchedSgemmArgs): void
  /** y[yOffset + i] += alpha·x[xOffset + i] for i < n. */
  axpy(n: number, alpha: number, x: Float32Array, xOffset: number, y: Float32Array, yOffset: number): void
  /** x[xOffset + i] *= alpha for i < n. */
  scal(n: number, alpha: number, x: Float32Array, xOffset: number): void
  /** Σ x[xOffset + i]·y[yOffset + i] for i < n, accumulated in float64. */
  dot(n: number, x: Float32Array, xOffset: number, y: Float32Array, yOffset: number): number
  /**
   * The AdamW update of one parameter tensor, element-wise in float64 (moments in float64, weights
   * rounded to float32 once): m ← β1 m + (1−β1) g, v ← β2 v + (1−β2) g², w ← w·decay − lr·(m/c1)/(√(v/c2) + ε).
   * Every backend computes it in this order, so results are bit-identical across backends.
   */
  adamw(w: Float32Array, g: Float32Array, m: Float64Array, v: Float64Array, h: AdamwConstants): void
  /**
   * Row-wise L2 normalisation of a contiguous rows x cols block: y_i = x_i / max(‖x_i‖, eps), norms_i =
   * ‖x_i‖ (float64; squares summed in row order, so every backend gives the same bits).
   */
  l2NormalizeRows(rows: number, cols: number, x: Float32Array, y: Float32Array, norms: Float64Array, eps: number): void
  /** Its backward: dx_i = (dy_i − y_i⟨y_i, dy_i⟩) / ‖x_i‖, or dy_i / eps where the clamp was active. */
  l2NormalizeRowsBackward(
    rows: number, cols: number, y: Float32Array, dy: Float32Array, norms: Float64Array, eps: number, dx: Float32Array
  ): void
  /**
   * Exact GELU, y_i = ½x_i(1 + erf(x_i/√2)) for i < n, in float64 per element (erf: internal/erf.ts's
   * Chebyshev fit, the same coefficients in every backend; agreement within float32 rounding).
   */
  geluErf(n: number, x: Float32Array, y: Float32Array): void
  /** Its backward: dx_i = dy_i·(½(1 + erf(x_i/√2)) + x_i·φ(x_i)), φ the standard normal density. */
  geluErfBackward(n: number, x: Float32Array, dy: Float32Array, dx: Float32Array): void
  /**
   * LayerNorm over each row of a rows x cols block, float64 per row in one fixed order (bit-identical
   * across backends): μ, σ = √(var + eps) (biased), rstd_i = 1/σ, x̂ = (x − μ)/σ (stored in xhat when
   * given), y = x̂·γ + β.
   */
  layerNorm(
    rows: number, cols: number, x: Float32Array, gamma: Float32Array, beta: Float32Array, eps: number,
    y: Float32Array, xhat: Float32Array | undefined, rstd: Float64Array
  ): void
  /**
   * Its backward from the kept x̂ and rstd: dx = (dy⊙γ − mean(dy⊙γ) − x̂·mean(dy⊙γ⊙x̂))·rstd; when dGamma
   * and dBeta are given, dGamma += Σ_rows dy⊙x̂ and dBeta += Σ_rows dy (accumulated row by row).
   */
  layerNormBackward(
    rows: number, cols: number, dy: Float32Array, xhat: Float32Array, rstd: Float64Array, gamma: Float32Array,
    dx: Float32Array, dGamma: Float32Array | undefined, dBeta: Float32Array | undefined
  ): void
  /**
   * Inverted-dropout forward on n elements from xoshiro128** state `state` (4 words, advanced in place
   * exactly as `Rng.next()` would be, two draws per element): keep_i = (u_i >= p), y_i = keep_i ? x_i·scale : 0
   * (x_i·scale in float64, rounded once). Bit-identical on every backend; keep[keepOffset + i], x[xOffset + i], y[yOffset + i].
   */
  dropout(
    n: number, p: number, scale: number, state: Uint32Array, x: Float32Array, xOffset: number, y: Float32Array, yOffset: number,
    keep: Uint8Array, keepOffset: number
  ): void
  /** Threads the kernels use. */
  threads(): number
  /** Sets the thread count (the TypeScript backend is single-threaded and only accepts 1). */
  setThreads(n: number): void
}

let current: Backend | undefined
let warned = false

/** Parses EMBEDFLOW_BACKEND; anything but unset, "native" or "ts" is a usage error. */
const requestedBackend = (): BackendName | "auto" => {
  const raw = globalThis.process?.env?.EMBEDFLOW_BACKEND
  if (raw === undefined || raw === "" || raw === "auto") return "auto"
  if (raw === "native" || raw === "ts") return raw
  throw new RangeError(`EMBEDFLOW_BACKEND is "${raw}", expected "native", "ts" or unset (auto)`)
}

const select = (): Backend => {
  const wanted = requestedBackend()
  threadsFromEnv() // a malformed EMBEDFLOW_THREADS is a usage error, not a reason to fall back
  if (wanted === "ts") return tsBackend
  if (wanted === "native") return loadNativeBackend()
  try {
    return loadNativeBackend()
  } catch (error) {
    if (!warned) {
      warned = true
      console.warn(
        `[@embedflow/tensor] native backend unavailable, using the TypeScript kernels: ${(error as Error).message}; ` +
          `set EMBEDFLOW_BACKEND=ts to choose them without this warning`
      )
    }
    return tsBackend
  }
}

/** The backend every kernel call uses (selected on first use). */
export const getBackend = (): Backend => (current ??= select())

/** Switches the backend for the whole process ("native" throws if the addon cannot load). */
export const setBackend = (backend: BackendName | Backend): Backend => {
  current = backend === "ts" ? tsBackend : backend === "native" ? loadNativeBackend() : backend
  return current
}

export { loadNativeBackend, tsBackend }
