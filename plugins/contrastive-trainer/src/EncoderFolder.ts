import { type Head, headFromJSON, headToOnnx } from "@embedflow/tensor"
import { GraphBuilder } from "@embedflow/onnx"
import * as fs from "node:fs/promises"
import * as path from "node:path"

/**
 * A trained encoder on disk: the frozen backbone's own folder (config.json, tokenizer files,
 * onnx/model.onnx; hard-linked when possible) plus
 *   embedflow-head.json   pooling + the head's weights (packages/tensor HeadJson)
 *   onnx/head.onnx        the head alone: input `pooled` [batch, dim] -> output `embedding`
 *                         (L2-normalised), for apps that run the backbone themselves.
 * The backbone graph is not merged with the head: nothing in the repo can rewrite an existing
 * ONNX graph yet, so the two run one after the other (`loadHeadEncoder`).
 */
export const HEAD_FILE = "embedflow-head.json"
export const HEAD_ONNX = "onnx/head.onnx"

export interface HeadEncoderConfig {
  readonly format: "embedflow.head-encoder/v1"
  readonly pooling: "cls" | "mean"
  /** The backbone the head was trained on (informational; the folder holds a copy). */
  readonly baseModel: string
  readonly head: ReturnType<Head["toJSON"]>
}

/** Hard-links (or copies) every file of `from` into `to`, recursively. */
const linkTree = async (from: string, to: string): Promise<void> => {
  await fs.mkdir(to, { recursive: true })
  for (const entry of await fs.readdir(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name)
    const dst = path.join(to, entry.name)
    if (entry.isDirectory()) await linkTree(src, dst)
    else if (entry.isFile()) await fs.link(src, dst).catch(() => fs.copyFile(src, dst))
  }
}

export const writeEncoderFolder = async (
  dir: string,
  options: { readonly baseModel: string; readonly pooling: "cls" | "mean"; readonly head: Head }
): Promise<void> => {
  await linkTree(options.baseModel, dir)
  const config: HeadEncoderConfig = { format: "embedflow.head-encoder/v1", pooling: options.pooling, baseModel: options.baseModel, head: options.head.toJSON() }
  await fs.writeFile(path.join(dir, HEAD_FILE), JSON.stringify(config))
  const builder = new GraphBuilder("embedflow-head")
  const y = headToOnnx(builder, options.head, "pooled", { normalize: true })
  builder.output(y, { name: "embedding", dataType: "float32" })
  await fs.mkdir(path.join(dir, "onnx"), { recursive: true })
  await fs.writeFile(path.join(dir, HEAD_ONNX), builder.toModel({ opset: 17 }))
}

/** The head config of a folder, or undefined for a plain backbone folder. */
export const readHeadConfig = async (dir: string): Promise<{ readonly pooling: "cls" | "mean"; readonly head: Head } | undefined> => {
  const file = path.join(dir, HEAD_FILE)
  const text = await fs.readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? undefined : Promise.reject(e)))
  if (text === undefined) return undefined
  const config = JSON.parse(text) as HeadEncoderConfig
  if (config.format !== "embedflow.head-encoder/v1") throw new Error(`${file}: format is ${JSON.stringify(config.format)}, expected "embedflow.head-encoder/v1"`)
  return { pooling: config.pooling, head: headFromJSON(config.head) }
}
