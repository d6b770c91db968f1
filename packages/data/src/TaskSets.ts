import type { Ports } from "@embedflow/core"
import { Rng } from "@embedflow/tensor"
import { Effect, Schema } from "effect"
import * as AgNews from "./AgNews.js"
import type { DataError } from "./DataError.js"
import type { LoadOptions } from "./DataRoot.js"
import * as Snli from "./Snli.js"
import * as Sst2 from "./Sst2.js"
import * as Trec from "./Trec.js"

type LabeledExample = Ports.LabeledExample

/**
 * The built-in sets as evaluation tasks: labelled examples for classification and clustering, and
 * 0/1-labelled pairs for pair classification. Labels are the sets' own class names.
 */
export const LabelledSet = Schema.Literals(["trec", "sst2", "ag-news"])
export type LabelledSet = typeof LabelledSet.Type

/**
 * AG News ships only its test file (7,600 articles, 1,900 a class): rows at even positions form the
 * training half, odd ones the test half, so both halves keep the class balance.
 */
export const AgNewsHalf = Schema.Literals(["train", "test", "all"])

const sst2Names = ["negative", "positive"] as const

/** Examples of a set's split; for AG News, `train`/`test` are the halves above and `all` the whole file. */
export const labelledExamples = (set: LabelledSet, split: "train" | "test" | "all", options?: LoadOptions): Effect.Effect<Array<LabeledExample>, DataError> =>
  Effect.gen(function* () {
    switch (set) {
      case "trec": {
        const splits: ReadonlyArray<Trec.Split> = split === "all" ? ["train", "test"] : [split]
        const out: Array<LabeledExample> = []
        for (const s of splits) for (const q of yield* Trec.load(s, options)) out.push({ id: q.id, text: q.text, label: q.coarse })
        return out
      }
      case "sst2": {
        const splits: ReadonlyArray<Sst2.Split> = split === "all" ? ["train", "test"] : [split]
        const out: Array<LabeledExample> = []
        for (const s of splits) for (const x of yield* Sst2.load(s, options)) out.push({ id: x.id, text: x.text, label: sst2Names[x.label] })
        return out
      }
      case "ag-news": {
        const articles = yield* AgNews.load(options)
        return articles
          .filter((_, i) => split === "all" || (split === "train") === (i % 2 === 0))
          .map((a) => ({ id: a.id, text: `${a.title} ${a.description}`, label: a.className }))
      }
    }
  })

/**
 * At most `perLabel` examples of each label, drawn at random (seeded) and kept in file order: a
 * bounded training pool for classification (MTEB's protocol uses a few dozen a label per experiment).
 */
export const capPerLabel = <A extends { readonly label: string }>(examples: ReadonlyArray<A>, perLabel: number, seed: number): Array<A> => {
  const rng = new Rng(seed)
  const byLabel = new Map<string, Array<number>>()
  examples.forEach((e, i) => (byLabel.get(e.label) ?? byLabel.set(e.label, []).get(e.label)!).push(i))
  const keep = new Set<number>()
  for (const idx of byLabel.values()) {
    if (idx.length <= perLabel) idx.forEach((i) => keep.add(i))
    else for (const j of rng.sample(idx.length, perLabel)) keep.add(idx[j]!)
  }
  return examples.filter((_, i) => keep.has(i))
}

/** SNLI entailment (1) vs contradiction (0) pairs of a split, neutral left out: a pair classification task. */
export const snliPairLabels = (split: Snli.Split, options?: LoadOptions): Effect.Effect<Array<Ports.ScoredPair>, DataError> =>
  Effect.map(Snli.load(split, options), (pairs) =>
    pairs.filter((p) => p.label !== "neutral").map((p) => ({ id: p.id, a: p.premise, b: p.hypothesis, score: p.label === "entailment" ? 1 : 0 }))
  )
