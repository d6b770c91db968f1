import type { LoadOptions, Pooling } from "@embedflow/models"

/** A model to serve: the id clients name in `model`, and where it loads from. */
export interface ModelSpec {
  readonly id: string
  /** A local folder or a hub id. */
  readonly source: string
}

export interface ServeOptions {
  readonly models: ReadonlyArray<ModelSpec>
  /** Default 127.0.0.1: only this machine can connect unless told otherwise. */
  readonly host?: string | undefined
  /** Default 8080; 0 picks a free port (see `ServerHandle.port`). */
  readonly port?: number | undefined
  /** Most tokens in one embedding batch across requests (default 8192). */
  readonly maxBatchTokens?: number | undefined
  /**
   * Most padded tokens in one onnxruntime run (the Encoder's maxTokensPerBatch; default 1024): a
   * gathered batch is split, longest texts first, into runs of this size, which pads less and
   * runs faster per text on CPU than one big run.
   */
  readonly maxRunTokens?: number | undefined
  /** Most (query, text) pairs in one rerank batch across requests (default 64). */
  readonly maxBatchPairs?: number | undefined
  /** How long an idle model waits for more requests before running a partial batch (default 0: it runs once the requests already received have joined). */
  readonly maxWaitMs?: number | undefined
  /** Most inputs queued per model before requests are answered 429 (default 4096). */
  readonly maxQueued?: number | undefined
  /** Most inputs in one request (default 2048, OpenAI's limit). */
  readonly maxInputs?: number | undefined
  /** Largest request body in bytes (default 4 MiB); larger ones are answered 413. */
  readonly maxBodyBytes?: number | undefined
  /** Longest texts in tokens (default 512, capped by the model's positions). */
  readonly maxLength?: number | undefined
  /** How long shutdown waits for in-flight requests (default 30 s). */
  readonly drainTimeoutMs?: number | undefined
  /** For plain backbones without sentence-transformers layout files: pooling and normalisation (default mean, normalised). */
  readonly pooling?: Pooling | undefined
  readonly normalize?: boolean | undefined
  readonly load?: LoadOptions | undefined
}

export const defaults = {
  host: "127.0.0.1",
  port: 8080,
  maxBatchTokens: 8192,
  maxRunTokens: 1024,
  maxBatchPairs: 64,
  maxWaitMs: 0,
  maxQueued: 4096,
  maxInputs: 2048,
  maxBodyBytes: 4 * 1024 * 1024,
  maxLength: 512,
  drainTimeoutMs: 30_000
} as const

/**
 * Parses a `--model` value: `id=source` names the model; otherwise a local folder is served under
 * its folder name and a hub id under itself.
 */
export const parseModelSpec = (arg: string, isLocalFolder: (source: string) => boolean): ModelSpec => {
  const eq = arg.indexOf("=")
  if (eq > 0) return { id: arg.slice(0, eq), source: arg.slice(eq + 1) }
  if (isLocalFolder(arg)) {
    const parts = arg.replace(/[/\\]+$/, "").split(/[/\\]/)
    return { id: parts[parts.length - 1] || arg, source: arg }
  }
  return { id: arg, source: arg }
}
