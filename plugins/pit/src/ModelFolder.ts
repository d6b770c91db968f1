/**
 * The trained decoder as a folder: `config.json` (decoder config, vocabulary, parameter names and
 * sizes) and `weights.bin` (the parameters' float32 values, concatenated in that order). The
 * engine's ONNX export rewrites the payloads of an existing ONNX graph and cannot create one for a
 * model trained from scratch, hence this format.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { type DecoderConfig, Gpt2Decoder } from "@embedflow/tensor"
import { WordTokenizer } from "./WordTokenizer.js"

export const FORMAT = "embedflow-pit-gpt/1"

interface FolderConfig {
  readonly format: string
  readonly decoder: DecoderConfig
  readonly vocabulary: ReadonlyArray<string>
  readonly parameters: ReadonlyArray<{ readonly name: string; readonly size: number }>
  /** What produced it (e.g. the curriculum's method). */
  readonly meta: { readonly method?: string }
}

const writeAtomic = (file: string, data: string | Uint8Array) => {
  const tmp = `${file}.tmp-${process.pid}`
  fs.writeFileSync(tmp, data)
  fs.renameSync(tmp, file)
}

export const saveModelFolder = (dir: string, model: Gpt2Decoder, tokenizer: WordTokenizer, meta: FolderConfig["meta"] = {}): void => {
  fs.mkdirSync(dir, { recursive: true })
  const params = model.allParams()
  const total = params.reduce((a, p) => a + p.value.length, 0)
  const weights = new Float32Array(total)
  let offset = 0
  for (const p of params) {
    weights.set(p.value, offset)
    offset += p.value.length
  }
  writeAtomic(path.join(dir, "weights.bin"), new Uint8Array(weights.buffer))
  const config: FolderConfig = { format: FORMAT, decoder: model.config, vocabulary: tokenizer.vocabulary, parameters: params.map((p) => ({ name: p.name, size: p.value.length })), meta }
  writeAtomic(path.join(dir, "config.json"), JSON.stringify(config))
}

export const loadModelFolder = (dir: string): { model: Gpt2Decoder; tokenizer: WordTokenizer; meta: FolderConfig["meta"] } => {
  const configFile = path.join(dir, "config.json")
  const config = JSON.parse(fs.readFileSync(configFile, "utf8")) as FolderConfig
  if (config.format !== FORMAT) throw new Error(`${configFile}: format is "${config.format}", expected "${FORMAT}"`)
  const model = new Gpt2Decoder(config.decoder)
  const bytes = fs.readFileSync(path.join(dir, "weights.bin"))
  const weights = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
  const params = model.allParams()
  if (params.length !== config.parameters.length) throw new Error(`${configFile}: ${config.parameters.length} parameters listed, the decoder has ${params.length}`)
  let offset = 0
  params.forEach((p, i) => {
    const listed = config.parameters[i]!
    if (listed.name !== p.name || listed.size !== p.value.length) {
      throw new Error(`${configFile}: parameter ${i} is ${listed.name} [${listed.size}], the decoder expects ${p.name} [${p.value.length}]`)
    }
    p.value.set(weights.subarray(offset, offset + p.value.length))
    offset += p.value.length
  })
  if (offset !== weights.length) throw new Error(`${dir}/weights.bin: ${weights.length} floats, the parameters take ${offset}`)
  return { model, tokenizer: new WordTokenizer(config.vocabulary), meta: config.meta ?? {} }
}
