import type { Ports } from "@embedflow/core"

/**
 * Premises from a text file: one per non-empty line (ids `p<line>`), or JSON Lines of
 * `{ "id", "text" }` when the file ends in .jsonl.
 */
export const parsePremises = (file: string, content: string): Array<Ports.TextRecord> => {
  const out: Array<Ports.TextRecord> = []
  content.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "")
    if (line.trim() === "") return
    if (!file.endsWith(".jsonl")) return void out.push({ id: `p${i + 1}`, text: line.trim() })
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (e) {
      throw new Error(`${file}:${i + 1}: not JSON (${(e as Error).message})`)
    }
    const r = value as { id?: unknown; text?: unknown }
    if (typeof r.id !== "string" || typeof r.text !== "string") throw new Error(`${file}:${i + 1}: expected {"id": string, "text": string}`)
    out.push({ id: r.id, text: r.text })
  })
  return out
}
