/**
 * Exports a sentence encoder as ONE ONNX model in a Hugging Face-layout folder: the backbone graph
 * with masked pooling, an optional trained head and optional L2 normalisation appended (protobuf
 * merge, see @embedflow/onnx `extendModel`), producing `sentence_embedding` [batch, dim] next to the
 * backbone's own outputs. transformers.js / onnxruntime apps load it like any model and read
 * `sentence_embedding`; this package's Encoder reads it directly (config.json `embedflow.output`).
 */
import { extensionBuilder, inspectModel, type ModelSummary, modelExtension } from "@embedflow/onnx"
import type { Head, TokenDelta } from "@embedflow/tensor"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { emitSentenceEmbedding, type ExportPooling, MIN_OPSET, SENTENCE_EMBEDDING } from "./internal/exportGraph.js"
import { resolveModelFolder } from "./internal/folder.js"
import { hiddenSize, maxPositions } from "./internal/modelConfig.js"
import { type ModelCard, renderModelCard } from "./ModelCard.js"
import { sentenceTransformersFiles } from "./SentenceTransformersLayout.js"
import { lmHeadInput } from "./internal/session.js"
import { ModelError } from "./ModelError.js"

export interface ExportEncoderOptions {
  /** The backbone's model folder (config.json, tokenizer files, the ONNX file). */
  readonly backbone: string
  /** The backbone's ONNX file inside its folder (default "onnx/model.onnx"), e.g. "onnx/model_sif.onnx". */
  readonly onnxFile?: string | undefined
  readonly pooling: ExportPooling
  /** L2-normalise the output rows (after the head). */
  readonly normalize: boolean
  /** A trained head (packages/tensor) applied to the pooled vector. */
  readonly head?: Head | undefined
  /**
   * Trained word-vector deltas (packages/tensor `TokenDelta`) added to the hidden state before
   * pooling; only for bag-of-vectors backbones (a `token_scale` output, see `readTokenBags`).
   */
  readonly tokenDelta?: TokenDelta | undefined
  /** The folder to write; replaced atomically if it exists. */
  readonly outDir: string
  /** Extra provenance recorded under config.json `embedflow` (e.g. the training run). */
  readonly info?: Readonly<Record<string, unknown>> | undefined
  /** Extra files written into the folder with the rest (relative path -> contents), e.g. the head's weights. */
  readonly files?: Readonly<Record<string, string | Uint8Array>> | undefined
  /**
   * What the model card (README.md) says beyond what the export knows itself (base model, pooling,
   * head): training data, evaluation results, a name. The card and the sentence-transformers layout
   * files are always written.
   */
  readonly card?: Partial<ModelCard> | undefined
}

/** What config.json `embedflow` holds in an exported folder. */
export interface ExportedEncoderConfig {
  readonly output: string
  readonly pooling: ExportPooling
  readonly normalize: boolean
  readonly head: Head["kind"] | null
  readonly dim: number
  readonly [key: string]: unknown
}

export interface ExportedEncoder {
  readonly dir: string
  /** Always "onnx/model.onnx". */
  readonly onnxFile: string
  readonly output: string
  readonly dim: number
  /** Size of the written ONNX file. */
  readonly bytes: number
}

export const EXPORTED_ONNX_FILE = "onnx/model.onnx"

const fail = (model: string, message: string, file?: string, cause?: unknown) =>
  new ModelError({ message: `exportEncoder("${model}"): ${message}`, model, ...(file ? { file } : {}), ...(cause ? { cause } : {}) })

/** The per-token hidden state: `last_hidden_state`, or a causal LM's LM-head input. */
const hiddenStateOf = (info: ModelSummary): string | undefined =>
  info.outputs.some((o) => o.name === "last_hidden_state") ? "last_hidden_state" : lmHeadInput(info)

/**
 * Writes `outDir`: the backbone's top-level files (tokenizer, special tokens, generation config...)
 * copied, config.json with an `embedflow` section added, and `onnx/model.onnx` = backbone + pooling
 * + head + normalisation (plus the backbone's external-data file, if any). The original bytes are
 * written once and the extension appended: a 136 MB backbone is never re-encoded or concatenated
 * in memory. Everything is written to a temp folder beside `outDir`, then renamed into place.
 */
export const exportEncoder = (options: ExportEncoderOptions): Effect.Effect<ExportedEncoder, ModelError> =>
  Effect.gen(function* () {
    const model = options.backbone
    const onnxFile = options.onnxFile ?? EXPORTED_ONNX_FILE
    const { dir } = yield* resolveModelFolder(model, { onnxFile, allowRemote: false })
    return yield* Effect.try({
      try: () => writeFolder(model, dir, onnxFile, options),
      catch: (e) => (e instanceof ModelError ? e : fail(model, e instanceof Error ? e.message : String(e), undefined, e))
    })
  })

const writeFolder = (model: string, dir: string, onnxFile: string, options: ExportEncoderOptions): ExportedEncoder => {
  const config = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")) as Record<string, unknown>
  const bytes = new Uint8Array(fs.readFileSync(path.join(dir, onnxFile)))
  const info = inspectModel(bytes)
  if (info.outputs.some((o) => o.name === SENTENCE_EMBEDDING)) {
    throw fail(model, `${onnxFile} already has a ${SENTENCE_EMBEDDING} output (an exported encoder); export from its backbone instead`, onnxFile)
  }
  const hidden = hiddenStateOf(info)
  if (hidden === undefined) {
    throw fail(model, `${onnxFile} has no last_hidden_state output and no MatMul/Gemm LM head under logits (outputs: ${info.outputs.map((o) => o.name).join(", ")})`, onnxFile)
  }
  const opset = info.opsetImports.find((o) => o.domain === "")?.version ?? 0
  if (opset < MIN_OPSET) throw fail(model, `${onnxFile} uses opset ${opset}; pooling needs opset >= ${MIN_OPSET}`, onnxFile)
  const last = info.outputs.find((o) => o.name === hidden)?.shape?.at(-1)
  const hiddenDim = typeof last === "number" ? last : hiddenSize(config)
  if (hiddenDim === undefined) throw fail(model, "cannot tell the hidden size (no fixed last dim on the hidden state, no hidden_size in config.json)", "config.json")

  const g = extensionBuilder(info, "embedflow-sentence-embedding")
  const vocabSize = typeof config.vocab_size === "number" ? config.vocab_size : undefined
  const dim = emitSentenceEmbedding(g, info, {
    hidden,
    dim: hiddenDim,
    pooling: options.pooling,
    normalize: options.normalize,
    head: options.head,
    tokenDelta: options.tokenDelta,
    vocabSize
  })
  const suffix = modelExtension(info, g, { metadata: { "embedflow.output": SENTENCE_EMBEDDING } })
  const embedflow: ExportedEncoderConfig = {
    ...options.info,
    output: SENTENCE_EMBEDDING,
    pooling: options.pooling,
    normalize: options.normalize,
    head: options.head?.kind ?? null,
    ...(options.tokenDelta !== undefined ? { tokenDelta: options.tokenDelta.tokens.length } : {}),
    dim
  }

  const outDir = path.resolve(options.outDir)
  fs.mkdirSync(path.dirname(outDir), { recursive: true })
  const tmp = fs.mkdtempSync(path.join(path.dirname(outDir), `.${path.basename(outDir)}.tmp-`))
  try {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      // Top-level files only: other ONNX variants would not carry the sentence_embedding output.
      if (entry.isFile() && entry.name !== "config.json" && !entry.name.startsWith(".")) {
        fs.copyFileSync(path.join(dir, entry.name), path.join(tmp, entry.name))
      }
    }
    fs.writeFileSync(path.join(tmp, "config.json"), `${JSON.stringify({ ...config, embedflow }, null, 2)}\n`)
    const target = path.join(tmp, EXPORTED_ONNX_FILE)
    fs.mkdirSync(path.dirname(target), { recursive: true })
    fs.writeFileSync(target, bytes)
    fs.appendFileSync(target, suffix)
    // External weights are found by their location relative to the model file: keep their names.
    const base = path.basename(onnxFile)
    for (const f of fs.readdirSync(path.dirname(path.join(dir, onnxFile)))) {
      if (f.startsWith(`${base}_data`) || f === `${base}.data`) fs.copyFileSync(path.join(dir, path.dirname(onnxFile), f), path.join(path.dirname(target), f))
    }
    const layout = { pooling: options.pooling, normalize: options.normalize, hiddenDim, maxSeqLength: maxPositions(config) ?? 512 }
    const described = {
      ...sentenceTransformersFiles(layout),
      "README.md": renderModelCard(exportCard(model, options, dim), path.basename(outDir))
    }
    for (const [name, contents] of Object.entries({ ...described, ...options.files })) {
      const file = path.resolve(tmp, name)
      if (!file.startsWith(tmp + path.sep)) throw fail(model, `extra file "${name}" would land outside the folder`)
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, contents)
    }
    replaceDir(tmp, outDir)
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true })
    throw e
  }
  return { dir: outDir, onnxFile: EXPORTED_ONNX_FILE, output: SENTENCE_EMBEDDING, dim, bytes: bytes.length + suffix.length }
}

/**
 * The card of an exported encoder. The pooling in `1_Pooling/config.json` reproduces the graph's
 * `sentence_embedding` from `last_hidden_state` only when nothing was trained into the graph after
 * the backbone (no head, no word-vector deltas); otherwise the card says to read `sentence_embedding`.
 */
const exportCard = (backbone: string, options: ExportEncoderOptions, dim: number): ModelCard => {
  const trained = options.head !== undefined || options.tokenDelta !== undefined
  const pooling = options.pooling === "last-token" ? "last_token" : options.pooling
  const usage = trained
    ? [
        "The ONNX graph `onnx/model.onnx` contains the backbone, the pooling, the trained " +
          `${options.head ? `${options.head.kind} head` : ""}${options.head && options.tokenDelta ? " and " : ""}${options.tokenDelta ? "word-vector deltas" : ""}` +
          `${options.normalize ? " and L2 normalisation" : ""}; read its \`sentence_embedding\` output [batch, ${dim}].`,
        "",
        "**Note:** `1_Pooling` describes the pooling inside the graph. Pooling `last_hidden_state` yourself " +
          "(sentence-transformers, `pipeline(\"feature-extraction\")`) gives the *untrained backbone's* vectors, not this model's.",
        "",
        "```js",
        'import { AutoModel, AutoTokenizer } from "@huggingface/transformers"',
        "const tokenizer = await AutoTokenizer.from_pretrained(folder)",
        "const model = await AutoModel.from_pretrained(folder)",
        "const { sentence_embedding } = await model(tokenizer(texts, { padding: true, truncation: true }))",
        "```"
      ]
    : [
        `Pooling: ${options.pooling}${options.normalize ? ", L2-normalised" : ""} (the \`sentence_embedding\` output of \`onnx/model.onnx\` computes the same), ${dim} dimensions.`,
        "",
        "```js",
        'import { pipeline } from "@huggingface/transformers"',
        'const extractor = await pipeline("feature-extraction", folder)',
        `const vectors = await extractor(texts, { pooling: "${pooling}", normalize: ${options.normalize} })`,
        "```"
      ]
  const body = [
    `A sentence encoder exported by embedflow from \`${options.card?.baseModel ?? backbone}\`.`,
    "",
    "## Usage",
    "",
    ...usage,
    "",
    "Serve it over an OpenAI-compatible API: `embedflow serve --model <this folder>`.",
    ...(options.card?.body ? ["", options.card.body] : [])
  ].join("\n")
  return {
    pipelineTag: "sentence-similarity",
    baseModel: backbone,
    ...options.card,
    tags: ["sentence-transformers", "feature-extraction", ...(options.card?.tags ?? [])],
    body
  }
}

/** Renames `tmp` to `target`, moving an existing `target` aside first and deleting it after. */
const replaceDir = (tmp: string, target: string): void => {
  if (!fs.existsSync(target)) {
    fs.renameSync(tmp, target)
    return
  }
  const old = `${tmp}.old`
  fs.renameSync(target, old)
  fs.renameSync(tmp, target)
  fs.rmSync(old, { recursive: true, force: true })
}
