/**
 * Sentences the tiny tokenizers are fitted on: STS-B train pairs and SNLI dev premises/hypotheses,
 * read from the shared data folder (never copied into the repo).
 */
import { createHash } from "node:crypto"
import { existsSync, readFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..")

/** `$EMBEDFLOW_DATA`, else `<repo>/../shared/data`. */
export const defaultDataDir = (): string => process.env.EMBEDFLOW_DATA ?? resolve(repoRoot, "../shared/data")

const FILES = ["stsbenchmark/sts-train.csv", "snli/s1.dev", "snli/s2.dev"] as const

export interface Corpus {
  /** Unique sentences in first-seen order. */
  readonly sentences: ReadonlyArray<string>
  /** sha256 of the files read, for build stamps. */
  readonly hash: string
}

export const loadCorpus = (dataDir: string = defaultDataDir()): Corpus => {
  const hash = createHash("sha256")
  const seen = new Set<string>()
  for (const rel of FILES) {
    const file = join(dataDir, rel)
    if (!existsSync(file)) {
      throw new Error(`tiny-models: corpus file ${file} not found; expected the shared data folder (set EMBEDFLOW_DATA)`)
    }
    const text = readFileSync(file, "utf8")
    hash.update(rel).update(text)
    for (const line of text.split("\n")) {
      if (rel.endsWith(".csv")) {
        const cols = line.split("\t")
        for (const s of [cols[5], cols[6]]) if (s !== undefined && s.trim() !== "") seen.add(s.trim())
      } else if (line.trim() !== "") seen.add(line.trim())
    }
  }
  return { sentences: [...seen], hash: hash.digest("hex") }
}
