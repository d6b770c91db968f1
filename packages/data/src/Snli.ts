import * as fs from "node:fs"
import * as path from "node:path"
import { Effect, Schema, Stream } from "effect"
import { DataFormatError } from "./DataError.js"
import * as DataRoot from "./DataRoot.js"
import { noRowsError, preview, readLines, streamFrom } from "./internal/lines.js"

/** SNLI in the SentEval layout: `s1.<split>` premises, `s2.<split>` hypotheses, `labels.<split>`, line-aligned. */
export const Split = Schema.Literals(["dev", "test"])
export type Split = typeof Split.Type

export const Label = Schema.Literals(["entailment", "neutral", "contradiction"])
export type Label = typeof Label.Type

export const Pair = Schema.Struct({
  id: Schema.String,
  split: Split,
  premise: Schema.String,
  hypothesis: Schema.String,
  label: Label
})
export type Pair = typeof Pair.Type

/** An (anchor, entailed, contradicted) triple: the SimCSE supervised training unit. */
export const Triple = Schema.Struct({ anchor: Schema.String, positive: Schema.String, negative: Schema.String })
export type Triple = typeof Triple.Type

const labels = new Set<string>(["entailment", "neutral", "contradiction"])

export const stream = (split: Split, options?: DataRoot.LoadOptions) =>
  Stream.unwrap(
    Effect.map(DataRoot.file(options, "snli"), (dir) => {
      const files = [`${dir}/s1.${split}`, `${dir}/s2.${split}`, `${dir}/labels.${split}`] as const
      return streamFrom(files[0], async function* () {
        // Fail on a missing file before reading any of them, naming the one that is missing.
        for (const f of files) await fs.promises.access(f, fs.constants.R_OK)
        const its = files.map((f) => readLines(f)[Symbol.asyncIterator]())
        let rows = 0
        try {
          for (;;) {
            const [a, b, c] = await Promise.all(its.map((it) => it.next()))
            if (a!.done && b!.done && c!.done) {
              if (rows === 0 && options?.allowEmpty !== true) {
                throw noRowsError(files[0], "sentence pair", `0 lines in ${files.map((f) => path.basename(f)).join(", ")} (empty files)`)
              }
              return
            }
            const ended = [a, b, c].findIndex((r) => r!.done)
            if (ended >= 0) {
              const live = [a, b, c].find((r) => !r!.done)!.value!
              throw new DataFormatError({
                file: files[ended]!,
                line: live.no,
                expected: `as many lines as ${files.filter((_, i) => i !== ended).join(" and ")}`,
                found: `end of file after ${live.no - 1} lines`
              })
            }
            const no = a!.value!.no
            const label = c!.value!.text.trim()
            if (!labels.has(label)) {
              throw new DataFormatError({ file: files[2], line: no, expected: "entailment, neutral or contradiction", found: preview(label) })
            }
            const premise = a!.value!.text.trim()
            const hypothesis = b!.value!.text.trim()
            // A blank line in one file shifts every later pair; the published files have none.
            if (premise === "") throw new DataFormatError({ file: files[0], line: no, expected: "a premise sentence", found: "a blank line" })
            if (hypothesis === "") throw new DataFormatError({ file: files[1], line: no, expected: "a hypothesis sentence", found: "a blank line" })
            rows++
            yield { id: `snli-${split}-${no}`, split, premise, hypothesis, label: label as Label }
          }
        } finally {
          // Close the files when the consumer stops early (Stream.take) or a row fails.
          await Promise.all(its.map((it) => it.return(undefined)))
        }
      })
    })
  )

export const load = (split: Split, options?: DataRoot.LoadOptions) => Stream.runCollect(stream(split, options))

/**
 * Groups pairs by premise (first-seen order) and pairs each entailed hypothesis with a contradicted
 * one of the same premise (cycling when there are fewer contradictions). Premises lacking either
 * kind give no triple.
 */
export const triples = (pairs: Iterable<Pair>): Array<Triple> => {
  const groups = new Map<string, { entailed: Array<string>; contradicted: Array<string> }>()
  for (const p of pairs) {
    if (p.label === "neutral") continue
    let g = groups.get(p.premise)
    if (!g) groups.set(p.premise, (g = { entailed: [], contradicted: [] }))
    ;(p.label === "entailment" ? g.entailed : g.contradicted).push(p.hypothesis)
  }
  const out: Array<Triple> = []
  for (const [anchor, g] of groups) {
    if (g.contradicted.length === 0) continue
    g.entailed.forEach((positive, i) => out.push({ anchor, positive, negative: g.contradicted[i % g.contradicted.length]! }))
  }
  return out
}
