/**
 * The sentence-transformers layout files that tell other tools (sentence-transformers, TEI, Infinity,
 * the serve command) how a folder's token states become a sentence vector: `modules.json`
 * (Transformer → Pooling → Normalize?), `1_Pooling/config.json`, `sentence_bert_config.json` and
 * `config_sentence_transformers.json`. Written next to `onnx/model.onnx` by `exportEncoder`; read
 * back by `readSentenceTransformersLayout`.
 */
import * as fs from "node:fs"
import * as path from "node:path"

export type LayoutPooling = "cls" | "mean" | "last-token"

export interface SentenceTransformersLayout {
  readonly pooling: LayoutPooling
  readonly normalize: boolean
  /** The per-token hidden size the pooling reads (`word_embedding_dimension`). */
  readonly hiddenDim: number
  readonly maxSeqLength: number
}

const POOLING_DIR = "1_Pooling"
const NORMALIZE_DIR = "2_Normalize"

/** The layout's files (relative path → contents), to be written into the model folder. */
export const sentenceTransformersFiles = (layout: SentenceTransformersLayout): Record<string, string> => {
  const json = (x: unknown) => `${JSON.stringify(x, null, 2)}\n`
  const modules = [
    { idx: 0, name: "0", path: "", type: "sentence_transformers.models.Transformer" },
    { idx: 1, name: "1", path: POOLING_DIR, type: "sentence_transformers.models.Pooling" },
    ...(layout.normalize ? [{ idx: 2, name: "2", path: NORMALIZE_DIR, type: "sentence_transformers.models.Normalize" }] : [])
  ]
  return {
    "modules.json": json(modules),
    [`${POOLING_DIR}/config.json`]: json({
      word_embedding_dimension: layout.hiddenDim,
      pooling_mode_cls_token: layout.pooling === "cls",
      pooling_mode_mean_tokens: layout.pooling === "mean",
      pooling_mode_max_tokens: false,
      pooling_mode_mean_sqrt_len_tokens: false,
      pooling_mode_weightedmean_tokens: false,
      pooling_mode_lasttoken: layout.pooling === "last-token",
      include_prompt: true
    }),
    // Normalize has no parameters; sentence-transformers expects the folder to exist.
    ...(layout.normalize ? { [`${NORMALIZE_DIR}/.gitkeep`]: "" } : {}),
    "sentence_bert_config.json": json({ max_seq_length: layout.maxSeqLength, do_lower_case: false }),
    "config_sentence_transformers.json": json({
      __version__: { sentence_transformers: "3.0.0" },
      prompts: {},
      default_prompt_name: null,
      similarity_fn_name: "cosine"
    })
  }
}

/**
 * The pooling and normalisation a folder's layout files declare, or undefined when it has no
 * `modules.json`. Throws, naming the file and field, when they are present but not understood.
 */
export const readSentenceTransformersLayout = (dir: string): SentenceTransformersLayout | undefined => {
  const modulesFile = path.join(dir, "modules.json")
  if (!fs.existsSync(modulesFile)) return undefined
  const modules = JSON.parse(fs.readFileSync(modulesFile, "utf8")) as Array<{ path?: unknown; type?: unknown }>
  if (!Array.isArray(modules)) throw new Error(`${modulesFile}: expected an array of modules`)
  const pooling = modules.find((m) => typeof m.type === "string" && m.type.endsWith(".Pooling"))
  if (pooling === undefined || typeof pooling.path !== "string") throw new Error(`${modulesFile}: no sentence_transformers.models.Pooling module with a path`)
  const poolingFile = path.join(dir, pooling.path, "config.json")
  const config = JSON.parse(fs.readFileSync(poolingFile, "utf8")) as Record<string, unknown>
  const mode: LayoutPooling | undefined = config.pooling_mode_mean_tokens === true
    ? "mean"
    : config.pooling_mode_cls_token === true
      ? "cls"
      : config.pooling_mode_lasttoken === true
        ? "last-token"
        : undefined
  if (mode === undefined) throw new Error(`${poolingFile}: none of pooling_mode_mean_tokens, pooling_mode_cls_token, pooling_mode_lasttoken is true (other modes are not supported)`)
  const hiddenDim = config.word_embedding_dimension
  if (typeof hiddenDim !== "number") throw new Error(`${poolingFile}: word_embedding_dimension must be a number`)
  const stFile = path.join(dir, "sentence_bert_config.json")
  const st = fs.existsSync(stFile) ? (JSON.parse(fs.readFileSync(stFile, "utf8")) as { max_seq_length?: unknown }) : {}
  return {
    pooling: mode,
    normalize: modules.some((m) => typeof m.type === "string" && m.type.endsWith(".Normalize")),
    hiddenDim,
    maxSeqLength: typeof st.max_seq_length === "number" ? st.max_seq_length : 512
  }
}
