/**
 * A Hugging Face model card (README.md with YAML front matter) for the model folders embedflow
 * writes: library, pipeline tag, base model, training data, and evaluation results in the hub's
 * `model-index` form, so the hub, MTEB tooling and people can read what the folder is.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { parse as parseYaml, stringify } from "yaml"

/** One evaluation result (model-index: a task, a dataset, metrics on it). */
export interface CardEvaluation {
  /** e.g. `{ type: "STS", name: "Semantic Textual Similarity" }`. */
  readonly task: { readonly type: string; readonly name?: string | undefined }
  readonly dataset: { readonly type: string; readonly name: string; readonly split?: string | undefined }
  /** Metric values as reported (e.g. Spearman ρ in [-1, 1]). */
  readonly metrics: ReadonlyArray<{ readonly type: string; readonly value: number; readonly name?: string | undefined }>
}

export interface ModelCard {
  /** The model's name on the card (model-index `name`); default the folder's name. */
  readonly name?: string | undefined
  /** e.g. "sentence-similarity", "feature-extraction", "text-ranking". */
  readonly pipelineTag: string
  /** The library that loads the folder as it is (default "transformers.js": ONNX + tokenizer.json). */
  readonly libraryName?: string | undefined
  readonly baseModel?: string | undefined
  /** Training data: hub ids or descriptive names. */
  readonly datasets?: ReadonlyArray<string> | undefined
  readonly tags?: ReadonlyArray<string> | undefined
  readonly evaluation?: ReadonlyArray<CardEvaluation> | undefined
  /** Markdown body after the front matter (a description, how to use it). */
  readonly body?: string | undefined
  readonly license?: string | undefined
}

export const MODEL_CARD_FILE = "README.md"

/** The card's text: `---\n<yaml>---\n\n<body>`. */
export const renderModelCard = (card: ModelCard, folderName: string): string => {
  const name = card.name ?? folderName
  const front: Record<string, unknown> = {
    library_name: card.libraryName ?? "transformers.js",
    pipeline_tag: card.pipelineTag,
    tags: ["embedflow", "onnx", ...(card.tags ?? [])],
    ...(card.license ? { license: card.license } : {}),
    ...(card.baseModel ? { base_model: card.baseModel } : {}),
    ...(card.datasets && card.datasets.length > 0 ? { datasets: [...card.datasets] } : {}),
    ...(card.evaluation && card.evaluation.length > 0
      ? {
          "model-index": [
            {
              name,
              results: card.evaluation.map((e) => ({
                task: e.task,
                dataset: { type: e.dataset.type, name: e.dataset.name, ...(e.dataset.split ? { split: e.dataset.split } : {}) },
                metrics: e.metrics.map((m) => ({ type: m.type, value: m.value, ...(m.name ? { name: m.name } : {}) }))
              }))
            }
          ]
        }
      : {})
  }
  const yaml = stringify(JSON.parse(JSON.stringify(front)), { lineWidth: 0 })
  return `---\n${yaml}---\n\n# ${name}\n\n${(card.body ?? "").trim()}\n`
}

/** Writes README.md into `dir` (temp file + rename). */
export const writeModelCard = (dir: string, card: ModelCard): void => {
  const file = path.join(dir, MODEL_CARD_FILE)
  const tmp = `${file}.tmp-${process.pid}`
  fs.writeFileSync(tmp, renderModelCard(card, path.basename(path.resolve(dir))))
  fs.renameSync(tmp, file)
}

/** The front matter of a README.md (undefined when the file or the front matter is absent). */
export const readModelCard = (dir: string): Record<string, unknown> | undefined => {
  const file = path.join(dir, MODEL_CARD_FILE)
  if (!fs.existsSync(file)) return undefined
  const m = /^---\n([\s\S]*?)\n---\n/.exec(fs.readFileSync(file, "utf8"))
  return m ? (parseYaml(m[1]!) as Record<string, unknown>) : undefined
}
