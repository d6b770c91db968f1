import { env } from "@huggingface/transformers"
import { Effect } from "effect"
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from "node:fs"
import { homedir } from "node:os"
import { dirname, isAbsolute, join, resolve } from "node:path"
import { ModelError } from "../ModelError.js"
import type { LoadOptions, ResolvedModel } from "../ModelSource.js"

const DEFAULT_ONNX_FILE = "onnx/model.onnx"
const REQUIRED = ["config.json", "tokenizer.json", "tokenizer_config.json"]
const OPTIONAL = ["special_tokens_map.json", "generation_config.json"]
const HUB_ID = /^[\w.-]+(\/[\w.-]+)?$/

export const onnxFileOf = (options: LoadOptions): string => options.onnxFile ?? DEFAULT_ONNX_FILE

const remoteAllowed = (options: LoadOptions): boolean =>
  options.allowRemote ?? process.env.EMBEDFLOW_ALLOW_REMOTE === "1"

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory()

/** The files a model folder must have. */
const modelFiles = (options: LoadOptions): Array<string> => [...REQUIRED, onnxFileOf(options)]

/** A tokenizer-only folder (for the HTTP backend's local encode/decode). */
export const TOKENIZER_FILES: ReadonlyArray<string> = ["tokenizer.json", "tokenizer_config.json"]

const checkFolder = (model: string, dir: string, downloaded: boolean, required: ReadonlyArray<string>) => {
  const missing = required.find((f) => !existsSync(join(dir, f)))
  return missing === undefined
    ? Effect.succeed<ResolvedModel>({ model, dir, downloaded })
    : Effect.fail(
        new ModelError({
          message: `model "${model}": missing ${missing} in ${dir} (a model folder needs ${required.join(", ")})`,
          model,
          file: missing
        })
      )
}

const candidates = (model: string, options: LoadOptions): Array<string> => {
  if (isAbsolute(model)) return [model]
  const base = options.modelsDir ?? process.env.EMBEDFLOW_MODELS_DIR
  return [...(base ? [resolve(base, model)] : []), resolve(model)]
}

export const resolveModelFolder = (
  model: string,
  options: LoadOptions,
  required: ReadonlyArray<string> = modelFiles(options)
): Effect.Effect<ResolvedModel, ModelError> =>
  Effect.suspend(() => {
    const paths = candidates(model, options)
    const found = paths.find(isDir)
    if (found !== undefined) return checkFolder(model, found, false, required)
    const explicitPath = isAbsolute(model) || model.startsWith(".")
    if (!explicitPath && HUB_ID.test(model) && remoteAllowed(options)) {
      return download(model, options, required).pipe(Effect.flatMap((dir) => checkFolder(model, dir, true, required)))
    }
    return Effect.fail(
      new ModelError({
        message: `model "${model}" not found: no folder at ${paths.join(" or ")}` +
          (explicitPath || !HUB_ID.test(model)
            ? ""
            : "; to download it as a hub id set EMBEDFLOW_ALLOW_REMOTE=1 (or allowRemote: true)"),
        model
      })
    )
  })

const cacheRoot = (options: LoadOptions): string =>
  options.cacheDir ?? process.env.EMBEDFLOW_CACHE_DIR ?? join(homedir(), ".cache", "embedflow", "hub")

const fileUrl = (model: string, file: string, options: LoadOptions): string => {
  const host = options.remoteHost ?? process.env.HF_ENDPOINT ?? env.remoteHost
  const path = env.remotePathTemplate
    .replaceAll("{model}", model)
    .replaceAll("{revision}", encodeURIComponent(options.revision ?? "main"))
  return `${host.replace(/\/$/, "")}/${path.replace(/^\//, "")}${file}`
}

/** Downloads a hub repo's model files into `<cache>/<id>/<revision>/` (kept between runs). */
const download = (model: string, options: LoadOptions, required: ReadonlyArray<string>): Effect.Effect<string, ModelError> => {
  const dir = join(cacheRoot(options), model, options.revision ?? "main")
  const onnx = onnxFileOf(options)
  const files: Array<[string, boolean]> = [
    ...required.map((f): [string, boolean] => [f, true]),
    ...OPTIONAL.map((f): [string, boolean] => [f, false]),
    ...(required.includes(onnx) ? [[`${onnx}_data`, false] as [string, boolean]] : [])
  ]
  return Effect.forEach(files, ([file, required]) => fetchFile(model, file, required, join(dir, file), options), {
    concurrency: 4,
    discard: true
  }).pipe(Effect.as(dir))
}

const fetchFile = (model: string, file: string, required: boolean, target: string, options: LoadOptions) =>
  Effect.tryPromise({
    try: async (signal) => {
      if (existsSync(target)) return
      const url = fileUrl(model, file, options)
      const token = process.env.HF_TOKEN ?? process.env.HF_ACCESS_TOKEN
      const res = await fetch(url, { signal, headers: token ? { Authorization: `Bearer ${token}` } : {} })
      if (res.status === 404 && !required) return
      if (!res.ok) {
        throw new ModelError({
          message: `model "${model}": downloading ${file} from ${url} failed with HTTP ${res.status}`,
          model,
          file
        })
      }
      const bytes = new Uint8Array(await res.arrayBuffer())
      mkdirSync(dirname(target), { recursive: true })
      const tmp = `${target}.part-${process.pid}`
      writeFileSync(tmp, bytes)
      renameSync(tmp, target)
    },
    catch: (e) =>
      e instanceof ModelError
        ? e
        : new ModelError({ message: `model "${model}": downloading ${file} failed: ${String(e)}`, model, file, cause: e })
  })
