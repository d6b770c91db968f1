import { AutoTokenizer, env, type PreTrainedTokenizer } from "@huggingface/transformers"
import { readFileSync } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"
import * as ort from "onnxruntime-node"

export const STS_TEST = resolve(import.meta.dirname, "../../../../shared/data/stsbenchmark/sts-test.csv")

export interface StsPairs {
  readonly s1: ReadonlyArray<string>
  readonly s2: ReadonlyArray<string>
  readonly gold: Float64Array
}

/** STS-B test: tab-separated, no quoting (sentences hold bare `"`). */
export const loadStsTest = (file = process.env.EMBEDFLOW_STS_TEST ?? STS_TEST): StsPairs => {
  const rows = readFileSync(file, "utf8").split("\n").filter((l) => l.length > 0).map((l) => l.split("\t"))
  return { s1: rows.map((r) => r[5]!), s2: rows.map((r) => r[6]!), gold: Float64Array.from(rows, (r) => Number(r[4])) }
}

/** transformers.js tokenizer of a local model folder, offline. */
export const loadTokenizer = async (dir: string): Promise<PreTrainedTokenizer> => {
  env.allowRemoteModels = false
  env.allowLocalModels = true
  env.localModelPath = `${dirname(resolve(dir))}/`
  return AutoTokenizer.from_pretrained(basename(resolve(dir)))
}

/**
 * What a generic transformer Encoder does: tokenize with padding, run the ONNX model, mean-pool
 * last_hidden_state over the attention mask.
 */
export const encodeWithOnnx = async (
  tokenizer: PreTrainedTokenizer,
  session: ort.InferenceSession,
  texts: ReadonlyArray<string>,
  batchSize = 256
): Promise<Float32Array> => {
  let dim = 0
  const chunks: Array<Float32Array> = []
  for (let b = 0; b < texts.length; b += batchSize) {
    const batch = texts.slice(b, b + batchSize)
    const enc = tokenizer(batch as string[], { padding: true })
    const dims = enc.input_ids.dims as number[]
    const feeds = {
      input_ids: new ort.Tensor("int64", enc.input_ids.data as BigInt64Array, dims),
      attention_mask: new ort.Tensor("int64", enc.attention_mask.data as BigInt64Array, dims)
    }
    const out = await session.run(feeds)
    const hidden = out.last_hidden_state!
    dim = hidden.dims[2]!
    chunks.push(meanPool(hidden.data as Float32Array, enc.attention_mask.data as BigInt64Array, batch.length, dims[1]!, dim))
  }
  const out = new Float32Array(texts.length * dim)
  let o = 0
  for (const c of chunks) {
    out.set(c, o)
    o += c.length
  }
  return out
}

export const meanPool = (hidden: Float32Array, mask: BigInt64Array, batch: number, seq: number, dim: number): Float32Array => {
  const out = new Float32Array(batch * dim)
  for (let b = 0; b < batch; b++) {
    let n = 0
    for (let t = 0; t < seq; t++) {
      if (mask[b * seq + t] === 0n) continue
      n++
      const o = (b * seq + t) * dim
      for (let j = 0; j < dim; j++) out[b * dim + j] += hidden[o + j]!
    }
    if (n > 0) for (let j = 0; j < dim; j++) out[b * dim + j] /= n
  }
  return out
}

export const onnxPath = (dir: string, file: string) => join(dir, file)
