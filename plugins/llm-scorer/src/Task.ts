import { createHash } from "node:crypto"
import { Ports } from "@embedflow/core"
import { AgNews, type DataError, Sst2, Trec } from "@embedflow/data"
import { Effect, Schema } from "effect"

type LabeledExample = Ports.LabeledExample

export const TaskName = Schema.Literals(["trec", "sst2", "ag-news"])
export type TaskName = typeof TaskName.Type

/** The folder of each task under the data root (what `load` reads, declared for the cache key). */
export const dataFolder: Record<TaskName, string> = { trec: "trec", sst2: "sst2", "ag-news": "ag_news" }

/** Label verbalizers: single common words, which even a tiny LM's tokenizer keeps short. */
export const verbalizers: Readonly<Record<TaskName, ReadonlyArray<string>>> = {
  trec: ["abbreviation", "description", "entity", "human", "location", "number"],
  sst2: ["negative", "positive"],
  "ag-news": ["world", "sports", "business", "technology"]
}

const trecLabel: Record<Trec.Coarse, string> = {
  ABBR: "abbreviation",
  DESC: "description",
  ENTY: "entity",
  HUM: "human",
  LOC: "location",
  NUM: "number"
}

/**
 * All examples of a task split from the shared data folder (`root`, default: the data package's
 * lookup). AG News ships only its test split, so `split` must be "test" for it.
 */
export const load = (
  task: TaskName,
  split: string,
  root?: string | undefined
): Effect.Effect<Array<LabeledExample>, DataError | Error> =>
  Effect.gen(function* () {
    const options = { root }
    switch (task) {
      case "trec": {
        if (split !== "train" && split !== "test") return yield* Effect.fail(new Error(`trec has splits 'train' and 'test', not '${split}'`))
        const rows = yield* Trec.load(split, options)
        return Array.from(rows, (q) => ({ id: q.id, text: q.text, label: trecLabel[q.coarse] }))
      }
      case "sst2": {
        if (split !== "train" && split !== "dev" && split !== "test") {
          return yield* Effect.fail(new Error(`sst2 has splits 'train', 'dev' and 'test', not '${split}'`))
        }
        const rows = yield* Sst2.load(split, options)
        return Array.from(rows, (s) => ({ id: s.id, text: s.text, label: verbalizers.sst2[s.label]! }))
      }
      case "ag-news": {
        if (split !== "test") return yield* Effect.fail(new Error(`ag-news has only the 'test' split, not '${split}'`))
        const rows = yield* AgNews.load(options)
        return Array.from(rows, (a) => ({ id: a.id, text: `${a.title}. ${a.description}`, label: verbalizers["ag-news"][a.label - 1]! }))
      }
    }
  })

/**
 * `n` examples chosen by a seeded hash of their ids: the same seed gives the same slice whatever the
 * file order, and different seeds give disjoint-looking samples. `exclude` drops ids (e.g. the pool
 * when sampling queries from the same split).
 */
export const sample = <E extends { readonly id: string }>(
  examples: ReadonlyArray<E>,
  n: number,
  seed: number,
  exclude: ReadonlySet<string> = new Set()
): Array<E> => {
  const key = (id: string) => createHash("sha256").update(`${seed}:${id}`).digest("hex")
  return examples
    .filter((e) => !exclude.has(e.id))
    .map((e) => ({ e, k: key(e.id) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .slice(0, n)
    .map((x) => x.e)
}
