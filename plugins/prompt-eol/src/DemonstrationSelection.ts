/**
 * PromptEOL's choice of the in-context demonstration (Jiang et al. 2023, §3.2): from a set of
 * candidate (sentence, word) pairs, each candidate is put in front of the template alone, STS-B dev
 * is embedded under it with the causal LM, and the candidate whose embeddings give the highest
 * Spearman correlation with the gold scores is kept (the authors keep one demonstration per model).
 */
import { PortType } from "@embedflow/core"
import { type EvalError, evaluateSts } from "@embedflow/eval"
import { Effect, Schema } from "effect"
import type { Demonstration } from "./PromptEol.js"

export const DemonstrationSchema = Schema.Struct({ sentence: Schema.String, word: Schema.String })

/** Demonstrations passed between stages, in the order they go in front of the template. */
export const Demonstrations = PortType.json(
  "Demonstrations",
  Schema.Array(DemonstrationSchema),
  "PromptEOL in-context demonstrations: (sentence, one-word answer) pairs"
)

export interface DevPair {
  readonly a: string
  readonly b: string
  readonly score: number
}

export interface RankedDemonstration {
  readonly demonstration: Demonstration
  /** Spearman's rho (a fraction) on the dev pairs with this demonstration alone in front of the template. */
  readonly spearman: number
}

/**
 * Embeds the dev sentences under each candidate (`embedUnder(candidate)(texts)` gives row-major
 * rows, one per text) and ranks the candidates by dev Spearman, best first; ties keep the
 * candidates' order. Each distinct sentence is embedded once per candidate.
 */
export const rankDemonstrations = <E, R>(
  candidates: ReadonlyArray<Demonstration>,
  dev: ReadonlyArray<DevPair>,
  embedUnder: (candidate: Demonstration) => (texts: ReadonlyArray<string>) => Effect.Effect<Float32Array, E, R>,
  onCandidate?: (done: number, total: number, ranked: RankedDemonstration) => Effect.Effect<void>
): Effect.Effect<Array<RankedDemonstration>, E | EvalError, R> =>
  Effect.gen(function* () {
    const sentences = [...new Set(dev.flatMap((p) => [p.a, p.b]))]
    const rowOf = new Map(sentences.map((s, i) => [s, i]))
    const gold = dev.map((p) => p.score)
    const ranked: Array<RankedDemonstration & { readonly order: number }> = []
    for (const [order, demonstration] of candidates.entries()) {
      const rows = yield* embedUnder(demonstration)(sentences)
      const dim = rows.length / sentences.length
      const side = (pick: (p: DevPair) => string) => {
        const data = new Float32Array(dev.length * dim)
        dev.forEach((p, i) => {
          const r = rowOf.get(pick(p))!
          data.set(rows.subarray(r * dim, (r + 1) * dim), i * dim)
        })
        return { dim, count: dev.length, data }
      }
      const { spearman } = yield* evaluateSts(side((p) => p.a), side((p) => p.b), gold)
      ranked.push({ demonstration, spearman, order })
      if (onCandidate) yield* onCandidate(order + 1, candidates.length, { demonstration, spearman })
    }
    ranked.sort((x, y) => y.spearman - x.spearman || x.order - y.order)
    return ranked.map(({ demonstration, spearman }) => ({ demonstration, spearman }))
  })
