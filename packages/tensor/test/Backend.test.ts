/**
 * The native (OpenBLAS) and TypeScript backends against each other and against float64 references:
 * every sgemm layout with alpha/beta, odd sizes, offsets and leading dimensions; strided-batched
 * attention-head products; the level-1 ops; AdamW (bit-identical); argument errors; and
 * matmul/matmulAtB/matmulABt on row views under each backend.
 */
import { afterAll, describe, expect, it } from "vitest"
import {
  type Backend, getBackend, loadNativeBackend, matmul, matmulABt, matmulAtB, matrix, Rng, type SgemmArgs, setBackend, sliceRows, tsBackend
} from "../src/index.js"
import { testData } from "./reference.js"

const native = loadNativeBackend()
const backends: ReadonlyArray<Backend> = [tsBackend, native]
const initial = getBackend()
afterAll(() => {
  setBackend(initial)
})

/** Float64 C = alpha·op(A)·op(B) + beta·C over the same storage conventions as SgemmArgs. */
const reference = (g: SgemmArgs, c0: Float32Array): { readonly c: Float64Array; readonly scale: Float64Array } => {
  const c = Float64Array.from(c0)
  const scale = new Float64Array(c0.length)
  for (let i = 0; i < g.m; i++) {
    for (let j = 0; j < g.n; j++) {
      let acc = 0, mag = 0
      for (let p = 0; p < g.k; p++) {
        const x = g.a[g.aOffset + (g.transA ? p * g.lda + i : i * g.lda + p)]
        const y = g.b[g.bOffset + (g.transB ? j * g.ldb + p : p * g.ldb + j)]
        acc += x * y
        mag += Math.abs(x * y)
      }
      const at = g.cOffset + i * g.ldc + j
      c[at] = g.alpha * acc + (g.beta === 0 ? 0 : g.beta * c0[at])
      scale[at] = Math.abs(g.alpha) * mag + Math.abs(g.beta * c0[at]) + 1e-30
    }
  }
  return { c, scale }
}

/** Max |got − want| relative to Σ|terms| (the float32 rounding scale), over every element (padding included). */
const relativeError = (got: Float32Array, want: Float64Array, scale: Float64Array): number => {
  let err = 0
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i])
    err = Math.max(err, scale[i] > 0 ? e / scale[i] : e)
  }
  return err
}

interface Case {
  readonly m: number
  readonly n: number
  readonly k: number
  readonly transA: boolean
  readonly transB: boolean
  readonly alpha: number
  readonly beta: number
}

/** Operands with an element offset and padded rows, so offsets and leading dimensions are exercised. */
const operands = (t: Case, seed: number): SgemmArgs => {
  const pad = 3, off = 7
  const [ar, ac] = t.transA ? [t.k, t.m] : [t.m, t.k]
  const [br, bc] = t.transB ? [t.n, t.k] : [t.k, t.n]
  const lda = ac + pad, ldb = bc + pad, ldc = t.n + pad
  return {
    ...t,
    a: testData(off + ar * lda, seed), aOffset: off, lda,
    b: testData(off + br * ldb, seed + 1), bOffset: off, ldb,
    c: testData(off + t.m * ldc, seed + 2), cOffset: off, ldc
  }
}

const sizes: ReadonlyArray<[number, number, number]> = [[1, 1, 1], [3, 5, 7], [4, 4, 4], [5, 1, 9], [17, 33, 5], [33, 17, 65], [67, 129, 70], [130, 3, 257]]

describe("sgemm: native and TypeScript backends agree with float64 and each other", () => {
  for (const [m, n, k] of sizes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`${m}x${n}x${k} transA=${transA} transB=${transB}, alpha/beta ∈ {1/0, -0.5/1, 2/0.25}`, () => {
          for (const [alpha, beta] of [[1, 0], [-0.5, 1], [2, 0.25]] as const) {
            const g = operands({ m, n, k, transA, transB, alpha, beta }, m * 31 + n * 7 + k)
            const { c: want, scale } = reference(g, g.c)
            const results = backends.map((backend) => {
              const c = g.c.slice()
              backend.sgemm({ ...g, c })
              expect(relativeError(c, want, scale), `${backend.name} alpha=${alpha} beta=${beta}`).toBeLessThan(2e-6)
              return c
            })
            const ulpScale = Float64Array.from(scale, (s) => s)
            expect(relativeError(results[0], Float64Array.from(results[1]), ulpScale)).toBeLessThan(4e-6)
          }
        })
      }
    }
  }

  it("beta = 0 overwrites C without reading it (NaN in C does not survive), and the padding is untouched", () => {
    for (const backend of backends) {
      const g = operands({ m: 9, n: 6, k: 5, transA: false, transB: true, alpha: 1, beta: 0 }, 3)
      const c = g.c.slice()
      for (let i = 0; i < 9; i++) for (let j = 0; j < 6; j++) c[g.cOffset + i * g.ldc + j] = Number.NaN
      backend.sgemm({ ...g, c })
      const { c: want, scale } = reference(g, g.c)
      expect(relativeError(c, want, scale), backend.name).toBeLessThan(2e-6)
    }
  })

  it("k = 0 scales C by beta; m = 0 or n = 0 is a no-op", () => {
    for (const backend of backends) {
      const c = Float32Array.from([1, 2, 3, 4])
      backend.sgemm({ transA: false, transB: false, m: 2, n: 2, k: 0, alpha: 1, a: new Float32Array(0), aOffset: 0, lda: 1, b: new Float32Array(0), bOffset: 0, ldb: 2, beta: 0.5, c, cOffset: 0, ldc: 2 })
      expect(Array.from(c), backend.name).toEqual([0.5, 1, 1.5, 2])
      backend.sgemm({ transA: false, transB: false, m: 0, n: 2, k: 3, alpha: 1, a: new Float32Array(0), aOffset: 0, lda: 3, b: new Float32Array(6), bOffset: 0, ldb: 2, beta: 0, c, cOffset: 0, ldc: 2 })
      expect(Array.from(c), backend.name).toEqual([0.5, 1, 1.5, 2])
    }
  })
})

describe("sgemmStridedBatched: attention heads as strided views", () => {
  it("per-head Q·Kᵀ and P·V over [seq, heads·dh] rows match per-head float64 products on both backends", () => {
    const seq = 11, heads = 3, dh = 5, width = heads * dh
    const q = testData(seq * width, 1), kk = testData(seq * width, 2), v = testData(seq * width, 3)
    // Head h of Q is the seq x dh block at column h·dh (lda = width): batch stride dh.
    const scores = backends.map((backend) => {
      const s = new Float32Array(heads * seq * seq).fill(Number.NaN)
      backend.sgemmStridedBatched({
        transA: false, transB: true, m: seq, n: seq, k: dh, alpha: 1 / Math.sqrt(dh),
        a: q, aOffset: 0, lda: width, strideA: dh, b: kk, bOffset: 0, ldb: width, strideB: dh,
        beta: 0, c: s, cOffset: 0, ldc: seq, strideC: seq * seq, batch: heads
      })
      return s
    })
    const contexts = backends.map((backend, bi) => {
      const out = new Float32Array(seq * width)
      backend.sgemmStridedBatched({
        transA: false, transB: false, m: seq, n: dh, k: seq, alpha: 1,
        a: scores[bi], aOffset: 0, lda: seq, strideA: seq * seq, b: v, bOffset: 0, ldb: width, strideB: dh,
        beta: 0, c: out, cOffset: 0, ldc: width, strideC: dh, batch: heads
      })
      return out
    })
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < seq; i++) {
        for (let j = 0; j < seq; j++) {
          let acc = 0
          for (let p = 0; p < dh; p++) acc += q[i * width + h * dh + p] * kk[j * width + h * dh + p]
          for (const s of scores) expect(Math.abs(s[h * seq * seq + i * seq + j] - acc / Math.sqrt(dh))).toBeLessThan(1e-5)
        }
        for (let j = 0; j < dh; j++) {
          let acc = 0
          for (let p = 0; p < seq; p++) acc += scores[0][h * seq * seq + i * seq + p] * v[p * width + h * dh + j]
          for (const c of contexts) expect(Math.abs(c[i * width + h * dh + j] - acc)).toBeLessThan(1e-4)
        }
      }
    }
  })

  it("rejects output strides that would overlap", () => {
    for (const backend of backends) {
      expect(() =>
        backend.sgemmStridedBatched({
          transA: false, transB: false, m: 2, n: 2, k: 2, alpha: 1, a: new Float32Array(8), aOffset: 0, lda: 2, strideA: 4,
          b: new Float32Array(8), bOffset: 0, ldb: 2, strideB: 4, beta: 0, c: new Float32Array(8), cOffset: 0, ldc: 2, strideC: 2, batch: 2
        }), backend.name
      ).toThrow(/strideC 2 would make the outputs overlap/)
    }
  })
})

describe("argument checks (both backends refuse before touching memory)", () => {
  const base = (): SgemmArgs => ({
    transA: false, transB: false, m: 3, n: 4, k: 5, alpha: 1,
    a: new Float32Array(15), aOffset: 0, lda: 5, b: new Float32Array(20), bOffset: 0, ldb: 4, beta: 0, c: new Float32Array(12), cOffset: 0, ldc: 4
  })
  for (const [what, args, message] of [
    ["an operand past its array", { aOffset: 1 }, /A needs elements up to 16 but its Float32Array holds 15/],
    ["a leading dimension shorter than a row", { ldb: 3 }, /leading dimension of B is 3, must be >= its stored column count 4/],
    ["a non-integer size", { m: 2.5 }, /m must be an integer >= 0/],
    ["a transposed A that does not fit", { transA: true }, /A needs elements up to/]
  ] as const) {
    it(`rejects ${what}`, () => {
      for (const backend of backends) expect(() => backend.sgemm({ ...base(), ...args }), backend.name).toThrow(message)
    })
  }

  it("rejects C overlapping A, but accepts disjoint views of one buffer", () => {
    const buffer = new Float32Array(100)
    for (const backend of backends) {
      expect(() => backend.sgemm({ ...base(), a: buffer, c: buffer, cOffset: 10 }), backend.name).toThrow(/C must not share memory with A or B/)
      expect(() => backend.sgemm({ ...base(), a: buffer, c: buffer, cOffset: 15 }), backend.name).not.toThrow()
    }
  })
})

describe("level-1 ops and AdamW", () => {
  it("axpy, scal and dot agree with float64 on offset ranges", () => {
    const n = 1001, x = testData(n + 5, 1), y0 = testData(n + 9, 2)
    for (const backend of backends) {
      const y = y0.slice()
      backend.axpy(n, -0.75, x, 5, y, 9)
      for (let i = 0; i < y.length; i++) expect(y[i]).toBeCloseTo(i < 9 ? y0[i] : y0[i] - 0.75 * x[i - 4], 5)
      backend.scal(n, 0.5, y, 9)
      expect(y[8]).toBe(y0[8])
      expect(y[9]).toBeCloseTo((y0[9] - 0.75 * x[5]) * 0.5, 5)
      let want = 0
      for (let i = 0; i < n; i++) want += x[5 + i] * y0[9 + i]
      expect(Math.abs(backend.dot(n, x, 5, y0, 9) - want)).toBeLessThan(1e-9 * n)
      expect(() => backend.dot(n, x, 6, y0, 9), backend.name).toThrow(RangeError)
    }
  })

  it("adamw gives bit-identical weights and moments on both backends over several steps", () => {
    const n = 4099
    const states = backends.map(() => ({ w: testData(n, 1), m: new Float64Array(n), v: new Float64Array(n) }))
    for (let t = 1; t <= 5; t++) {
      const g = testData(n, 10 + t)
      backends.forEach((backend, i) => {
        const s = states[i]
        backend.adamw(s.w, g, s.m, s.v, { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, c1: 1 - 0.9 ** t, c2: 1 - 0.999 ** t, decay: 1 - 0.01 * 0.1 })
      })
    }
    expect(states[1].w).toEqual(states[0].w)
    expect(states[1].m).toEqual(states[0].m)
    expect(states[1].v).toEqual(states[0].v)
    expect(states[0].w).not.toEqual(testData(n, 1))
    expect(() => native.adamw(new Float32Array(3), new Float32Array(2), new Float64Array(3), new Float64Array(3), { lr: 1, beta1: 0.9, beta2: 0.9, eps: 1, c1: 1, c2: 1, decay: 1 })).toThrow(/they must match/)
  })
})

describe("row-wise L2 normalisation", () => {
  it("forward and backward are bit-identical on both backends, match float64, and honour the eps clamp", () => {
    const rows = 7, cols = 389, eps = 1e-6
    const x = testData(rows * cols, 21)
    x.fill(0, 2 * cols, 3 * cols) // row 2 is zero: the clamp is active
    const dy = testData(rows * cols, 22)
    const out = backends.map((backend) => {
      const y = new Float32Array(rows * cols), norms = new Float64Array(rows), dx = new Float32Array(rows * cols)
      backend.l2NormalizeRows(rows, cols, x, y, norms, eps)
      backend.l2NormalizeRowsBackward(rows, cols, y, dy, norms, eps, dx)
      return { y, norms, dx }
    })
    expect(out[1].y).toEqual(out[0].y)
    expect(out[1].norms).toEqual(out[0].norms)
    expect(out[1].dx).toEqual(out[0].dx)
    for (let i = 0; i < rows; i++) {
      let s = 0
      for (let j = 0; j < cols; j++) s += x[i * cols + j] ** 2
      const norm = Math.sqrt(s)
      expect(out[0].norms[i]).toBeCloseTo(norm, 12)
      let dot = 0
      for (let j = 0; j < cols; j++) dot += (x[i * cols + j] / Math.max(norm, eps)) * dy[i * cols + j]
      for (let j = 0; j < cols; j++) {
        const yj = x[i * cols + j] / Math.max(norm, eps)
        const dxj = norm <= eps ? dy[i * cols + j] / eps : (dy[i * cols + j] - yj * dot) / norm
        expect(Math.abs(out[0].y[i * cols + j] - yj)).toBeLessThan(1e-7)
        expect(Math.abs(out[0].dx[i * cols + j] - dxj)).toBeLessThan(1e-6 * Math.max(1, Math.abs(dxj)))
      }
    }
    expect(out[0].dx[2 * cols + 5]).toBe(Math.fround(dy[2 * cols + 5] / eps))
    for (const backend of backends) {
      expect(() => backend.l2NormalizeRows(rows, cols, x, new Float32Array(10), new Float64Array(rows), eps), backend.name).toThrow(RangeError)
    }
  })
})

describe("matmul, matmulAtB, matmulABt dispatch to the selected backend", () => {
  it("give the same products on both backends for row views at an offset, with accumulate and alpha", () => {
    const big = matrix(40, 23, testData(40 * 23, 5))
    const a = sliceRows(big, 3, 20), b = sliceRows(big, 17, 40) // 17 x 23 and 23 x 23 views with byte offsets
    const w = matrix(23, 9, testData(23 * 9, 6))
    const run = () => {
      const c0 = testData(17 * 9, 7)
      return [
        matmul(a, w).data,
        matmulABt(a, b).data,
        matmulAtB(b, b).data,
        matmul(a, w, { out: matrix(17, 9, c0.slice()), accumulate: true, alpha: -0.5 }).data,
        matmulAtB(a, matrix(17, 9, testData(17 * 9, 8)), { out: matrix(23, 9, testData(23 * 9, 9)), accumulate: true, alpha: 2 }).data
      ]
    }
    setBackend("ts")
    const ts = run()
    setBackend("native")
    expect(getBackend()).toBe(native)
    const nat = run()
    ts.forEach((t, i) => {
      let err = 0, mag = 0
      for (let j = 0; j < t.length; j++) {
        err = Math.max(err, Math.abs(t[j] - nat[i][j]))
        mag = Math.max(mag, Math.abs(t[j]))
      }
      expect(err / mag, `product ${i}`).toBeLessThan(1e-5)
    })
  })
})

describe("exact GELU", () => {
  it("forward and backward agree across backends within float32 rounding and match a float64 reference", () => {
    const n = 1037
    const x = testData(n, 31)
    for (let i = 0; i < n; i++) x[i] *= 8 // spread over [-8, 8): both tails and the middle
    x[0] = 0
    x[1] = -20
    x[2] = 20
    const dy = testData(n, 32)
    const out = backends.map((backend) => {
      const y = new Float32Array(n), dx = new Float32Array(n)
      backend.geluErf(n, x, y)
      backend.geluErfBackward(n, x, dy, dx)
      return { y, dx }
    })
    // float64 reference: erf from its Taylor series / continued fraction is overkill here; a 2000-panel
    // Simpson integral of the normal density gives Φ to ~1e-12 independently of the Chebyshev fit.
    const phi = (t: number) => Math.exp(-0.5 * t * t) / Math.sqrt(2 * Math.PI)
    const Phi = (v: number) => {
      const a = Math.min(0, v), b = Math.max(0, v), m = 2000, h = (b - a) / m
      let s = phi(a) + phi(b)
      for (let k = 1; k < m; k++) s += (k % 2 ? 4 : 2) * phi(a + k * h)
      const area = (s * h) / 3
      return v >= 0 ? 0.5 + area : 0.5 - area
    }
    for (let i = 0; i < n; i++) {
      const xi = x[i], cdf = Phi(xi)
      const y = xi * cdf, dx = dy[i] * (cdf + xi * phi(xi))
      for (const o of out) {
        expect(Math.abs(o.y[i] - y)).toBeLessThan(2e-6 * Math.max(1, Math.abs(y)))
        expect(Math.abs(o.dx[i] - dx)).toBeLessThan(2e-6 * Math.max(1, Math.abs(dx)))
      }
      expect(Math.abs(out[1].y[i] - out[0].y[i])).toBeLessThanOrEqual(2 ** -23 * Math.max(1e-30, Math.abs(out[0].y[i])))
      expect(Math.abs(out[1].dx[i] - out[0].dx[i])).toBeLessThanOrEqual(2 ** -23 * Math.max(1e-30, Math.abs(out[0].dx[i])))
    }
    expect(out[0].y[1]).toBeCloseTo(0, 6)
    expect(out[0].y[2]).toBe(20)
    for (const backend of backends) {
      expect(() => backend.geluErf(n, x, new Float32Array(10)), backend.name).toThrow(RangeError)
      expect(() => backend.geluErfBackward(n, x, dy, new Float32Array(10)), backend.name).toThrow(RangeError)
    }
  })
})

describe("dropout", () => {
  it("draws the masks Rng.next() draws, bit-identically on both backends, and advances the state the same", () => {
    const n = 4099, p = 0.1, scale = 1 / (1 - p), off = 7
    const x = testData(n + off, 41)
    const reference = new Rng(123)
    const keepRef = new Uint8Array(n), yRef = new Float32Array(n)
    for (let i = 0; i < n; i++) {
      if (reference.next() >= p) {
        keepRef[i] = 1
        yRef[i] = x[off + i] * scale
      }
    }
    for (const backend of backends) {
      const rng = new Rng(123)
      const state = rng.getState()
      const y = new Float32Array(n + 3).fill(NaN), keep = new Uint8Array(n + 5).fill(9)
      backend.dropout(n, p, scale, state, x, off, y, 3, keep, 5)
      rng.setState(state)
      expect(keep.subarray(5), backend.name).toEqual(keepRef)
      expect(y.subarray(3), backend.name).toEqual(yRef)
      expect(Array.from(keep.subarray(0, 5))).toEqual([9, 9, 9, 9, 9])
      expect(rng.next(), backend.name).toBe(rngAfter(123, 2 * n))
      const dropped = keepRef.reduce((s, k) => s + (1 - k), 0) / n
      expect(Math.abs(dropped - p)).toBeLessThan(0.02)
      expect(() => backend.dropout(n, p, scale, new Uint32Array(3), x, off, y, 3, keep, 5), backend.name).toThrow()
      expect(() => backend.dropout(n, p, scale, rng.getState(), x, off, y, 3, new Uint8Array(n), 5), backend.name).toThrow(RangeError)
    }
  })
})

/** The uniform that follows `draws` uint32 draws of Rng(seed). */
const rngAfter = (seed: number, draws: number): number => {
  const r = new Rng(seed)
  for (let i = 0; i < draws; i++) r.nextUint32()
  return r.next()
}

describe("LayerNorm", () => {
  it("forward and backward are bit-identical on both backends and match float64", () => {
    const rows = 9, cols = 387, eps = 1e-12
    const x = testData(rows * cols, 51), gamma = testData(cols, 52), beta = testData(cols, 53), dy = testData(rows * cols, 54)
    for (let i = 0; i < cols; i++) x[i] = 3 + 1e-3 * x[i] // a row with a large mean and small spread
    const out = backends.map((backend) => {
      const y = new Float32Array(rows * cols), xhat = new Float32Array(rows * cols), rstd = new Float64Array(rows)
      const dx = new Float32Array(rows * cols), dGamma = testData(cols, 55), dBeta = testData(cols, 56)
      backend.layerNorm(rows, cols, x, gamma, beta, eps, y, xhat, rstd)
      const yNoKeep = new Float32Array(rows * cols)
      backend.layerNorm(rows, cols, x, gamma, beta, eps, yNoKeep, undefined, new Float64Array(rows))
      expect(yNoKeep, backend.name).toEqual(y)
      backend.layerNormBackward(rows, cols, dy, xhat, rstd, gamma, dx, dGamma, dBeta)
      const dxFrozen = new Float32Array(rows * cols)
      backend.layerNormBackward(rows, cols, dy, xhat, rstd, gamma, dxFrozen, undefined, undefined)
      expect(dxFrozen, backend.name).toEqual(dx)
      return { y, xhat, rstd, dx, dGamma, dBeta }
    })
    for (const key of ["y", "xhat", "rstd", "dx", "dGamma", "dBeta"] as const) expect(out[1][key], key).toEqual(out[0][key])
    const dGamma0 = testData(cols, 55), dBeta0 = testData(cols, 56)
    for (let i = 0; i < rows; i++) {
      const row = Array.from(x.subarray(i * cols, (i + 1) * cols))
      const mean = row.reduce((s, v) => s + v, 0) / cols
      const sigma = Math.sqrt(row.reduce((s, v) => s + (v - mean) ** 2, 0) / cols + eps)
      const h = row.map((v) => (v - mean) / sigma)
      const g = h.map((_, j) => dy[i * cols + j] * gamma[j])
      const mG = g.reduce((s, v) => s + v, 0) / cols, mGx = g.reduce((s, v, j) => s + v * h[j], 0) / cols
      for (let j = 0; j < cols; j++) {
        const y = h[j] * gamma[j] + beta[j], dx = (g[j] - mG - h[j] * mGx) / sigma
        expect(Math.abs(out[0].y[i * cols + j] - y)).toBeLessThan(1e-5 * Math.max(1, Math.abs(y)))
        expect(Math.abs(out[0].dx[i * cols + j] - dx)).toBeLessThan(1e-4 * Math.max(1, Math.abs(dx)))
        dGamma0[j] += dy[i * cols + j] * h[j]
        dBeta0[j] += dy[i * cols + j]
      }
    }
    for (let j = 0; j < cols; j++) {
      expect(Math.abs(out[0].dGamma[j] - dGamma0[j])).toBeLessThan(1e-4 * Math.max(1, Math.abs(dGamma0[j])))
      expect(Math.abs(out[0].dBeta[j] - dBeta0[j])).toBeLessThan(1e-5 * Math.max(1, Math.abs(dBeta0[j])))
    }
    for (const backend of backends) {
      expect(() => backend.layerNorm(rows, cols, x, gamma, new Float32Array(3), eps, new Float32Array(rows * cols), undefined, new Float64Array(rows)), backend.name).toThrow(RangeError)
      expect(() => backend.layerNormBackward(rows, cols, dy, new Float32Array(5), new Float64Array(rows), gamma, new Float32Array(rows * cols), undefined, undefined), backend.name).toThrow(RangeError)
    }
  })
})
