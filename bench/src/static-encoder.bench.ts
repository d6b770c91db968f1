/**
 * Static encoder throughput: sentences/s of the GloVe 6B 100-d model folder through
 * onnxruntime-node (Gather graph + masked mean pooling) against the plain TypeScript average of
 * the same vectors, measured in the same run on the same sentences (STS-B test, repeated).
 * Both paths use the same TypeScript tokenizer and ids, so the ratio compares the encoders; a third
 * row adds transformers.js tokenization, as a generic Encoder service would run it. The pooled
 * vectors of the ORT path are checked against the baseline's.
 *
 *   node --conditions=source --import tsx tools/static-encoder/src/main.ts   # once: build the folder
 *   node --conditions=source --import tsx bench/src/static-encoder.bench.ts [repeats=5] [batch=256]
 */
import { AutoTokenizer, env } from "@huggingface/transformers"
import { averageWordVectors, buildStaticEncoder, defaultModelDir, loadGloveVectors, ONNX_FILES, tokenize } from "@embedflow/static-encoder"
import { readFileSync } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"
import * as ort from "onnxruntime-node"

const repeats = Number(process.argv[2] ?? 5)
const batchSize = Number(process.argv[3] ?? 256)
const root = resolve(import.meta.dirname, "../..")
const stsFile = join(process.env.EMBEDFLOW_DATA ?? resolve(root, "../shared/data"), "stsbenchmark/sts-test.csv")
const rows = readFileSync(stsFile, "utf8").split("\n").filter((l) => l.length > 0).map((l) => l.split("\t"))
const base = rows.flatMap((r) => [r[5]!, r[6]!])
const texts = Array.from({ length: repeats }, () => base).flat()

const dir = defaultModelDir()
const built = buildStaticEncoder(dir)
console.log(`model: ${dir} (${built.skipped ? "cached" : `built in ${built.seconds.toFixed(1)} s`})`)
let t = performance.now()
const vectors = loadGloveVectors()
console.log(`TypeScript vectors load: ${((performance.now() - t) / 1000).toFixed(2)} s`)
t = performance.now()
const session = await ort.InferenceSession.create(join(dir, ONNX_FILES.mean))
console.log(`onnxruntime session load: ${((performance.now() - t) / 1000).toFixed(2)} s`)
env.allowRemoteModels = false
env.localModelPath = `${dirname(dir)}/`
t = performance.now()
const hfTokenizer = await AutoTokenizer.from_pretrained(basename(dir))
console.log(`transformers.js tokenizer load: ${((performance.now() - t) / 1000).toFixed(2)} s`)

const dim = vectors.dim
// Word row r is id r + 2; unknown words get [UNK] = 1.
const idsOf = (text: string): Array<number> => tokenize(text).map((w) => (vectors.index.get(w) ?? -1) + 2)

/** Pads ids into a batch, runs the graph, mean-pools over the mask into `out` at row `at`. */
const runBatch = async (ids: ReadonlyArray<ReadonlyArray<number>>, out: Float32Array, at: number): Promise<void> => {
  const seq = Math.max(1, ...ids.map((r) => r.length))
  const inputIds = new BigInt64Array(ids.length * seq)
  const mask = new BigInt64Array(ids.length * seq)
  ids.forEach((r, b) => r.forEach((id, j) => {
    inputIds[b * seq + j] = BigInt(id)
    mask[b * seq + j] = 1n
  }))
  const dims = [ids.length, seq]
  const res = await session.run({ input_ids: new ort.Tensor("int64", inputIds, dims), attention_mask: new ort.Tensor("int64", mask, dims) })
  const hidden = res.last_hidden_state!.data as Float32Array
  for (let b = 0; b < ids.length; b++) {
    const n = ids[b]!.length
    const o = (at + b) * dim
    for (let j = 0; j < n; j++) for (let k = 0; k < dim; k++) out[o + k] += hidden[(b * seq + j) * dim + k]!
    if (n > 0) for (let k = 0; k < dim; k++) out[o + k] /= n
  }
}

const viaOrt = async (tokenizeIds: (batch: ReadonlyArray<string>) => Array<Array<number>>): Promise<Float32Array> => {
  const out = new Float32Array(texts.length * dim)
  for (let b = 0; b < texts.length; b += batchSize) await runBatch(tokenizeIds(texts.slice(b, b + batchSize)), out, b)
  return out
}

const time = async <T>(f: () => T | Promise<T>): Promise<{ seconds: number; value: T }> => {
  await f() // warm-up
  const t0 = performance.now()
  const value = await f()
  return { seconds: (performance.now() - t0) / 1000, value }
}

const baseline = await time(() => averageWordVectors(vectors, texts))
const ortTs = await time(() => viaOrt((batch) => batch.map(idsOf)))
const ortHf = await time(() => viaOrt((batch) => batch.map((s) => hfTokenizer.encode(s))))

let worst = 0
for (const v of [ortTs.value, ortHf.value]) for (let i = 0; i < v.length; i++) worst = Math.max(worst, Math.abs(v[i]! - baseline.value[i]!))
if (worst > 1e-5) throw new Error(`onnxruntime and TypeScript averages differ by ${worst}`)

const rate = (s: number) => texts.length / s
console.log(`\n${texts.length} sentences (STS-B test x${repeats}), batch ${batchSize}, max |ORT - TS| = ${worst.toExponential(1)}`)
console.log("path                                   sentences/s   ratio vs TS average")
for (const [name, r] of [
  ["TypeScript average (baseline)", baseline],
  ["onnxruntime-node, TS tokenizer", ortTs],
  ["onnxruntime-node, transformers.js tok", ortHf]
] as const) {
  console.log(`${name.padEnd(38)} ${rate(r.seconds).toFixed(0).padStart(11)}   ${(baseline.seconds / r.seconds).toFixed(2)}x`)
}
await session.release()
