import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { writeFileAtomic } from "@embedflow/core"

/**
 * A task's result in MTEB's result-file layout (mteb's TaskResult JSON), so files line up with the
 * leaderboard's: one file per task, `scores.<split>` a list of subsets with `main_score`,
 * `hf_subset`, `languages` and the metrics under MTEB's names.
 */
export interface MtebResult {
  readonly dataset_revision: string
  readonly task_name: string
  /** The mteb release whose metric definitions and result layout these follow. */
  readonly mteb_version: string
  readonly scores: Readonly<Record<string, ReadonlyArray<MtebSubsetScores>>>
  readonly evaluation_time: number
  readonly kg_co2_emissions: null
  /** Not in mteb's files: what computed them. */
  readonly evaluator: string
}

export interface MtebSubsetScores {
  readonly main_score: number
  readonly hf_subset: string
  readonly languages: ReadonlyArray<string>
  readonly [metric: string]: unknown
}

/** Metric definitions and result layout followed (mteb 1.14: flat metric names such as cosine_spearman, max_ap). */
export const MTEB_VERSION = "1.14.0"
export const EVALUATOR = "@embedflow/eval 0.1.0 (a TypeScript reimplementation of mteb's evaluators)"

/** A revision for local data: the first 16 hex digits of the SHA-256 of the task's inputs as JSON. */
export const revisionOf = (data: unknown): string => createHash("sha256").update(JSON.stringify(data)).digest("hex").slice(0, 16)

export const mtebResult = (r: {
  readonly task: string
  readonly split: string
  readonly mainScore: number
  readonly metrics: Readonly<Record<string, unknown>>
  readonly revision: string
  readonly seconds: number
  readonly subset?: string
  readonly languages?: ReadonlyArray<string>
}): MtebResult => ({
  dataset_revision: r.revision,
  task_name: r.task,
  mteb_version: MTEB_VERSION,
  scores: { [r.split]: [{ ...r.metrics, main_score: r.mainScore, hf_subset: r.subset ?? "default", languages: r.languages ?? ["eng-Latn"] }] },
  evaluation_time: r.seconds,
  kg_co2_emissions: null,
  evaluator: EVALUATOR
})

/** Writes `<dir>/<task_name>.json` atomically; returns its path. */
export const writeMtebResult = async (dir: string, result: MtebResult): Promise<string> => {
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, `${result.task_name}.json`)
  await writeFileAtomic(file, JSON.stringify(result, null, 2) + "\n")
  return file
}

/** The main score and split of a result (its first subset). */
export const mainScoreOf = (r: MtebResult): { split: string; score: number } => {
  const [split, subsets] = Object.entries(r.scores)[0]!
  return { split, score: subsets[0]!.main_score }
}
