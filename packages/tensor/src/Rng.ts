/**
 * Deterministic seeded random numbers: xoshiro128** (Blackman & Vigna) on 32-bit integer ops,
 * its 128-bit state expanded from the seed with splitmix32, so nearby seeds give unrelated streams.
 * The same seed gives the same sequence on every JS runtime (no Math.random, no platform floats
 * beyond IEEE-754 log/sqrt/cos).
 */
export class Rng {
  private s0 = 0
  private s1 = 0
  private s2 = 0
  private s3 = 0
  private spare: number | undefined = undefined

  /** `seed`: any finite integer (the low 53 bits are used). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`Rng: seed must be a safe integer, got ${seed}`)
    const lo = seed >>> 0
    const hi = Math.floor(seed / 4294967296) >>> 0
    let x = lo ^ Math.imul(hi, 0x9e3779b9) ^ 0x6a09e667
    const splitmix32 = (): number => {
      x = (x + 0x9e3779b9) | 0
      let z = x
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) | 0
    }
    this.s0 = splitmix32()
    this.s1 = splitmix32()
    this.s2 = splitmix32()
    this.s3 = splitmix32()
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1 // the all-zero state is a fixed point
  }

  /** The 128-bit xoshiro state (for checkpoints). `Rng.fromState` resumes the uniform stream; a pending
   * Box-Muller spare is not part of the state, so checkpoint between pairs of normal() calls. */
  getState(): Uint32Array {
    return Uint32Array.of(this.s0, this.s1, this.s2, this.s3)
  }

  /** Resumes the uniform stream from `getState()`'s words in place (kernels that draw on their own, e.g.
   * the backend's dropout, hand the advanced state back this way); a pending normal() spare is kept. */
  setState(state: ArrayLike<number>): void {
    if (state.length !== 4 || Array.from(state).every((v) => (v | 0) === 0)) {
      throw new RangeError("Rng.setState: need 4 uint32 words, not all zero")
    }
    this.s0 = state[0] | 0
    this.s1 = state[1] | 0
    this.s2 = state[2] | 0
    this.s3 = state[3] | 0
  }

  static fromState(state: ArrayLike<number>): Rng {
    if (state.length !== 4 || Array.from(state).every((v) => (v | 0) === 0)) {
      throw new RangeError("Rng.fromState: need 4 uint32 words, not all zero")
    }
    const r = new Rng(0)
    r.s0 = state[0] | 0
    r.s1 = state[1] | 0
    r.s2 = state[2] | 0
    r.s3 = state[3] | 0
    return r
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s1 = this.s1
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9)
    const t = s1 << 9
    this.s2 ^= this.s0
    this.s3 ^= this.s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 11)
    return result >>> 0
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5 // 27 bits
    const lo = this.nextUint32() >>> 6 // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992
  }

  /** Uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next()
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). n ≤ 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) {
      throw new RangeError(`Rng.int: n must be an integer in 1..2^32, got ${n}`)
    }
    const limit = 4294967296 - (4294967296 % n)
    let v: number
    do v = this.nextUint32()
    while (v >= limit)
    return v % n
  }

  /** Normal(mean, std) by the Box-Muller transform; the second variate of each pair is kept. */
  normal(mean = 0, std = 1): number {
    if (this.spare !== undefined) {
      const z = this.spare
      this.spare = undefined
      return mean + std * z
    }
    const u1 = 1 - this.next() // (0, 1]: log stays finite
    const u2 = this.next()
    const r = Math.sqrt(-2 * Math.log(u1))
    const theta = 2 * Math.PI * u2
    this.spare = r * Math.sin(theta)
    return mean + std * r * Math.cos(theta)
  }

  fillNormal<A extends Float32Array | Float64Array>(out: A, mean = 0, std = 1): A {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std)
    return out
  }

  fillUniform<A extends Float32Array | Float64Array>(out: A, lo = 0, hi = 1): A {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform(lo, hi)
    return out
  }

  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T, A extends { length: number; [i: number]: T }>(array: A): A {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const t = array[i]
      array[i] = array[j]
      array[j] = t
    }
    return array
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n)
    for (let i = 0; i < n; i++) p[i] = i
    return this.shuffle(p)
  }

  /** k distinct indices from 0..n-1 in random order (partial Fisher-Yates, or Floyd's method when k ≪ n). */
  sample(n: number, k: number): Int32Array {
    if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`Rng.sample: need 0 ≤ k ≤ n, got k=${k}, n=${n}`)
    const out = new Int32Array(k)
    if (k * 16 < n) {
      // Floyd: O(k) memory, no n-sized array.
      const chosen = new Set<number>()
      for (let j = n - k; j < n; j++) {
        const t = this.int(j + 1)
        chosen.add(chosen.has(t) ? j : t)
      }
      let i = 0
      for (const v of chosen) out[i++] = v
      return this.shuffle(out)
    }
    const p = new Int32Array(n)
    for (let i = 0; i < n; i++) p[i] = i
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i)
      const t = p[i]
      p[i] = p[j]
      p[j] = t
      out[i] = p[i]
    }
    return out
  }

  /** One uniformly chosen element. */
  choice<T>(items: ReadonlyArray<T>): T {
    if (items.length === 0) throw new RangeError("Rng.choice: empty array")
    return items[this.int(items.length)]
  }

  /** An independent generator seeded from this stream (for per-worker or per-epoch streams). */
  fork(): Rng {
    return new Rng(this.nextUint32() * 2097152 + (this.nextUint32() >>> 11))
  }
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k))
