/**
 * Encoder throughput (sentences/s) on tiny-bert with ~2000 STS-B sentences: the @embedflow/models
 * Encoder service (tokenize, length-sorted dynamic batches, run, mean-pool, normalize) against its
 * peer and raw onnxruntime-node on the very same batches, measured in the same run:
 *   - transformers.js' own `pipeline("feature-extraction")` (mean pooling, normalize), the library
 *     most JS users would reach for, called once per batch
 *   - raw pipeline: transformers.js batch tokenization with padding + session.run + mean pooling
 *   - raw run only: session.run on tensors built beforehand (the inference floor)
 * and a check that all four give the same vectors.
 *
 *   node --conditions=source --import tsx bench/src/encoder.bench.ts [sentences=2000] [maxTokensPerBatch=4096] [reps=9]
 */
import { AutoTokenizer, pipeline, type Tensor } from "@huggingface/transformers"
import { encoderConfig, makeEncoder } from "@embedflow/models"
import { buildTinyModels } from "@embedflow/tiny-models"
import { Effect } from "effect"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as ort from "onnxruntime-node"

const count = Number(process.argv[2] ?? 2000)
const maxTokensPerBatch = Number(process.argv[3] ?? 4096)
const reps = Number(process.argv[4] ?? 9)

const dataDir = process.env.EMBEDFLOW_DATA ?? join(import.meta.dirname, "../../../shared/data")
const sentences: Array<string> = []
for (const line of readFileSync(join(dataDir, "stsbenchmark/sts-train.csv"), "utf8").split("\n")) {
  const cols = line.split("\t")
  if (cols.length >= 7) sentences.push(cols[5], cols[6])
  if (sentences.length >= count) break
}
sentences.length = Math.min(sentences.length, count)

const modelsDir = mkdtempSync(join(tmpdir(), "embedflow-bench-"))
buildTinyModels(modelsDir)
const dir = join(modelsDir, "tiny-bert")

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
/** Median wall time of each contender; rounds interleave them so machine noise hits all alike. */
const timeInterleaved = async (fns: ReadonlyArray<() => Promise<unknown>>): Promise<Array<number>> => {
  for (const fn of fns) await fn() // warm-up
  const ts = fns.map((): Array<number> => [])
  for (let r = 0; r < reps; r++) {
    for (let k = 0; k < fns.length; k++) {
      const t0 = performance.now()
      await fns[k]()
      ts[k].push(performance.now() - t0)
    }
  }
  return ts.map(median)
}

await Effect.runPromise(
  Effect.scoped(
    Effect.gen(function* () {
      const encoder = yield* makeEncoder(encoderConfig({ model: dir, pooling: "mean", normalize: true, maxTokensPerBatch }))
      const serviceVectors = yield* encoder.embed(sentences)

      // The same batches the service forms: token lengths, longest first, padded tokens <= budget.
      const tokenizer = yield* Effect.promise(() => AutoTokenizer.from_pretrained(dir, { local_files_only: true }))
      const lengths = sentences.map((s) => tokenizer.encode(s).length)
      const order = sentences.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b)
      const batches: Array<Array<number>> = []
      for (const i of order) {
        const cur = batches.at(-1)
        if (cur && (cur.length + 1) * lengths[cur[0]] <= maxTokensPerBatch) cur.push(i)
        else batches.push([i])
      }
      const session = yield* Effect.promise(() => ort.InferenceSession.create(join(dir, "onnx/model.onnx"), { graphOptimizationLevel: "all" }))
      const dim = 32
      const out = new Float32Array(sentences.length * dim)
      const feedsOf = (batch: Array<number>) => {
        const enc = tokenizer(batch.map((i) => sentences[i]), { padding: true })
        const t = (x: Tensor) => new ort.Tensor("int64", x.data as BigInt64Array, x.dims)
        return { input_ids: t(enc.input_ids), attention_mask: t(enc.attention_mask), token_type_ids: t(enc.token_type_ids!) }
      }
      const pool = (batch: Array<number>, feeds: ReturnType<typeof feedsOf>, hidden: ort.Tensor) => {
        const [b, s] = hidden.dims
        const h = hidden.data as Float32Array
        const mask = feeds.attention_mask.data as BigInt64Array
        for (let r = 0; r < b; r++) {
          const v = new Float64Array(dim)
          let n = 0
          for (let t = 0; t < s; t++) {
            if (mask[r * s + t] === 0n) continue
            n++
            for (let d = 0; d < dim; d++) v[d] += h[(r * s + t) * dim + d]
          }
          let norm = 0
          for (let d = 0; d < dim; d++) norm += (v[d] / n) ** 2
          norm = Math.sqrt(norm)
          for (let d = 0; d < dim; d++) out[batch[r] * dim + d] = v[d] / n / norm
        }
      }
      const rawPipeline = async () => {
        for (const batch of batches) {
          const feeds = feedsOf(batch)
          pool(batch, feeds, (await session.run(feeds)).last_hidden_state)
        }
      }
      const prebuilt = batches.map(feedsOf)
      const rawRun = async () => {
        for (const feeds of prebuilt) await session.run(feeds)
      }
      const extractor = yield* Effect.promise(() => pipeline("feature-extraction", dir, { local_files_only: true, dtype: "fp32" }))
      const peerOut = new Float32Array(sentences.length * dim)
      const transformersPipeline = async () => {
        for (const batch of batches) {
          const result = await extractor(batch.map((i) => sentences[i]!), { pooling: "mean", normalize: true })
          const data = result.data as Float32Array
          batch.forEach((i, r) => peerOut.set(data.subarray(r * dim, (r + 1) * dim), i * dim))
        }
      }
      const [serviceMs, peerMs, rawPipelineMs, rawRunMs] = yield* Effect.promise(() =>
        timeInterleaved([() => Effect.runPromise(encoder.embed(sentences)), transformersPipeline, rawPipeline, rawRun])
      )
      let diff = 0
      let peerDiff = 0
      for (let i = 0; i < out.length; i++) {
        diff = Math.max(diff, Math.abs(out[i] - serviceVectors[i]))
        peerDiff = Math.max(peerDiff, Math.abs(peerOut[i]! - serviceVectors[i]))
      }
      yield* Effect.promise(() => extractor.dispose())
      yield* Effect.promise(() => session.release())

      const rate = (ms: number) => ((sentences.length / ms) * 1000).toFixed(0)
      console.log(`tiny-bert, ${sentences.length} STS-B sentences, ${batches.length} batches (<= ${maxTokensPerBatch} padded tokens), median of ${reps}`)
      console.log(`  Encoder service      ${serviceMs.toFixed(1).padStart(8)} ms  ${rate(serviceMs).padStart(8)} sentences/s`)
      console.log(`  transformers.js pipeline("feature-extraction") ${peerMs.toFixed(1).padStart(8)} ms  ${rate(peerMs).padStart(8)} sentences/s`)
      console.log(`  raw ORT pipeline     ${rawPipelineMs.toFixed(1).padStart(8)} ms  ${rate(rawPipelineMs).padStart(8)} sentences/s`)
      console.log(`  raw ORT run only     ${rawRunMs.toFixed(1).padStart(8)} ms  ${rate(rawRunMs).padStart(8)} sentences/s`)
      console.log(`  service / transformers.js pipeline time: ${(serviceMs / peerMs).toFixed(3)}  (the service is ${(peerMs / serviceMs).toFixed(2)}x as fast)`)
      console.log(`  service / raw pipeline time: ${(serviceMs / rawPipelineMs).toFixed(3)}  (overhead ${((serviceMs / rawPipelineMs - 1) * 100).toFixed(1)}%)`)
      console.log(`  service / raw run-only time: ${(serviceMs / rawRunMs).toFixed(3)}`)
      console.log(`  max |service - raw| = ${diff.toExponential(2)}, max |service - transformers.js| = ${peerDiff.toExponential(2)}`)
    })
  )
)
rmSync(modelsDir, { recursive: true, force: true })
