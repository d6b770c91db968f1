import { exportEncoder, type ExportedEncoder, type ModelCard, type ModelError } from "@embedflow/models"
import { type Head, headFromJSON, type TokenDelta } from "@embedflow/tensor"
import type { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"

/**
 * A trained encoder on disk is a plain Hugging Face model folder written by `exportEncoder`
 * (packages/models): `onnx/model.onnx` is the frozen backbone + pooling + the trained head + L2
 * normalisation as ONE graph (output `sentence_embedding`), so transformers.js, onnxruntime and
 * `models/embed` load it like any encoder. For provenance (and to resume training from it) the
 * folder also keeps
 *   embedflow-head.json          pooling, the base model, and the head's weights (packages/tensor HeadJson)
 *   embedflow-token-delta.json   the tuned word-vector deltas, when word vectors were trained (TokenDeltaJson)
 */
export const HEAD_FILE = "embedflow-head.json"
export const TOKEN_DELTA_FILE = "embedflow-token-delta.json"

export interface HeadEncoderConfig {
  readonly format: "embedflow.head-encoder/v1"
  readonly pooling: "cls" | "mean"
  /** The backbone the head was trained on (informational; the folder's graph contains it). */
  readonly baseModel: string
  readonly head: ReturnType<Head["toJSON"]>
}

/** Exports backbone + pooling + head (+ L2 normalisation) as one ONNX model folder at `dir` (atomically). */
export const writeEncoderFolder = (
  dir: string,
  options: {
    readonly baseModel: string
    readonly onnxFile?: string | undefined
    readonly pooling: "cls" | "mean"
    readonly head: Head
    /** Tuned word vectors (bag-of-vectors backbones), baked into the graph and kept as JSON. */
    readonly tokenDelta?: TokenDelta | undefined
    /** L2-normalise the output (default true). */
    readonly normalize?: boolean | undefined
    /** What the model card adds (training data, evaluation results); exportEncoder writes the card and layout files. */
    readonly card?: Partial<ModelCard> | undefined
  }
): Effect.Effect<ExportedEncoder, ModelError> => {
  const config: HeadEncoderConfig = { format: "embedflow.head-encoder/v1", pooling: options.pooling, baseModel: options.baseModel, head: options.head.toJSON() }
  return exportEncoder({
    backbone: options.baseModel,
    ...(options.onnxFile !== undefined ? { onnxFile: options.onnxFile } : {}),
    pooling: options.pooling,
    normalize: options.normalize ?? true,
    head: options.head,
    tokenDelta: options.tokenDelta,
    outDir: dir,
    info: { trainer: "contrastive-trainer", baseModel: options.baseModel },
    card: options.card,
    files: {
      [HEAD_FILE]: JSON.stringify(config),
      ...(options.tokenDelta !== undefined ? { [TOKEN_DELTA_FILE]: JSON.stringify(options.tokenDelta.toJSON()) } : {})
    }
  })
}

/** The trained head of a folder written by `writeEncoderFolder`, or undefined for any other folder. */
export const readHeadConfig = async (dir: string): Promise<{ readonly pooling: "cls" | "mean"; readonly baseModel: string; readonly head: Head } | undefined> => {
  const file = path.join(dir, HEAD_FILE)
  const text = await fs.readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? undefined : Promise.reject(e)))
  if (text === undefined) return undefined
  const config = JSON.parse(text) as HeadEncoderConfig
  if (config.format !== "embedflow.head-encoder/v1") throw new Error(`${file}: format is ${JSON.stringify(config.format)}, expected "embedflow.head-encoder/v1"`)
  return { pooling: config.pooling, baseModel: config.baseModel, head: headFromJSON(config.head) }
}
