import { createHash } from "node:crypto"

/** JSON with object keys sorted at every level, so equal values always hash equally. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
      const sorted: Record<string, unknown> = {}
      for (const k of Object.keys(v as object).sort()) sorted[k] = (v as Record<string, unknown>)[k]
      return sorted
    }
    return v
  })

export const sha256Hex = (text: string): string => createHash("sha256").update(text).digest("hex")

/** A 32-bit seed derived from a run seed and a name (FNV-1a over the pair): stable across runtimes. */
export const deriveSeed = (runSeed: number, name: string): number => {
  let h = 0x811c9dc5
  const s = `${runSeed}:${name}`
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
