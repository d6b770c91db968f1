import type { Effect } from "effect"
import { resolveModelFolder } from "./internal/folder.js"
import type { ModelError } from "./ModelError.js"

/** Where and how models are loaded. Every field is optional. */
export interface LoadOptions {
  /** Folder that relative model names are looked up in (besides the working directory). Default `$EMBEDFLOW_MODELS_DIR`. */
  readonly modelsDir?: string | undefined
  /**
   * Download hub ids (`org/name`) that are not local folders. Default: `EMBEDFLOW_ALLOW_REMOTE=1`.
   * Off by default: loading is fully offline unless this is set.
   */
  readonly allowRemote?: boolean | undefined
  /** Hub endpoint; default transformers.js's `env.remoteHost` (https://huggingface.co/), or `$HF_ENDPOINT`. */
  readonly remoteHost?: string | undefined
  readonly revision?: string | undefined
  /** Where downloaded hub files are kept; default `$EMBEDFLOW_CACHE_DIR` or `~/.cache/embedflow/hub`. */
  readonly cacheDir?: string | undefined
  /** Execution provider; "cuda" falls back to "cpu" with a warning when unavailable. Default "cpu". */
  readonly device?: "cpu" | "cuda" | undefined
  /** The ONNX file inside the model folder; default "onnx/model.onnx". */
  readonly onnxFile?: string | undefined
  /** onnxruntime intra-op threads (0 or unset: onnxruntime's default). */
  readonly intraOpNumThreads?: number | undefined
  /**
   * Whether onnxruntime's intra-op threads spin-wait between runs (default true, onnxruntime's).
   * false for a server, whose main thread has HTTP work between runs that spinning threads would starve.
   */
  readonly allowSpinning?: boolean | undefined
}

/** A model folder on disk, after any download. */
export interface ResolvedModel {
  /** The name the caller gave. */
  readonly model: string
  /** Absolute folder path. */
  readonly dir: string
  readonly downloaded: boolean
}

/**
 * Finds a model folder: an existing path, a name under `modelsDir`, or (remote enabled) a hub id
 * downloaded into the cache. Checks that config.json, tokenizer.json, tokenizer_config.json and the
 * ONNX file exist and names the first missing one.
 */
export const resolveModel = (model: string, options: LoadOptions = {}): Effect.Effect<ResolvedModel, ModelError> =>
  resolveModelFolder(model, options)
