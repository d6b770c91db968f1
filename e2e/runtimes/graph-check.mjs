// Runs a small embedflow graph whose stage tokenizes with @huggingface/transformers and runs the tiny
// BERT through onnxruntime-node, then prints the result as JSON. The same file runs under Node, Bun
// and Deno, so the test can compare the three runtimes' outputs. Usage: graph-check.mjs <modelDir> <storeDir>
import * as path from "node:path"
import { Effect, Schema } from "effect"
import { Graph, Plugin, PortType, Runner, Stage, layerFileSystem, progress } from "@embedflow/core"
import { AutoTokenizer, env } from "@huggingface/transformers"
import * as ort from "onnxruntime-node"

const [modelDir, storeDir] = process.argv.slice(2)
env.allowRemoteModels = false
env.localModelPath = path.dirname(modelDir)

const Sentences = PortType.json("Sentences", Schema.Array(Schema.String))
const Pooled = PortType.vectors("Pooled")

const sentences = Stage.make({
  name: "rt/sentences",
  version: "1",
  description: "fixed sentences",
  params: Schema.Struct({}),
  inputs: {},
  outputs: { sentences: Sentences },
  run: () => Effect.succeed({ sentences: ["a man is playing a guitar .", "two dogs run in the park", "the cat sleeps"] })
})

const embed = Stage.make({
  name: "rt/embed",
  version: "1",
  description: "mean-pooled tiny-bert embeddings via onnxruntime-node",
  params: Schema.Struct({ model: Schema.String }),
  inputs: { sentences: Sentences },
  outputs: { vectors: Pooled },
  run: (params, inputs) =>
    Effect.promise(async () => {
      const tokenizer = await AutoTokenizer.from_pretrained(path.basename(params.model))
      const session = await ort.InferenceSession.create(path.join(params.model, "onnx", "model.onnx"))
      const enc = tokenizer(inputs.sentences, { padding: true })
      const [batch, seq] = enc.input_ids.dims
      const out = await session.run({
        input_ids: new ort.Tensor("int64", enc.input_ids.data, [batch, seq]),
        attention_mask: new ort.Tensor("int64", enc.attention_mask.data, [batch, seq]),
        token_type_ids: new ort.Tensor("int64", new BigInt64Array(batch * seq), [batch, seq])
      })
      const hidden = out.last_hidden_state
      const dim = hidden.dims[2]
      const data = new Float32Array(batch * dim)
      for (let b = 0; b < batch; b++) {
        let n = 0
        for (let t = 0; t < seq; t++) {
          if (enc.attention_mask.data[b * seq + t] === 0n) continue
          n++
          for (let d = 0; d < dim; d++) data[b * dim + d] += hidden.data[(b * seq + t) * dim + d]
        }
        for (let d = 0; d < dim; d++) data[b * dim + d] /= n
      }
      await session.release()
      return { vectors: { dim, count: batch, data } }
    }).pipe(Effect.tap(() => progress(3, 3, "sentences")))
})

const registry = new Plugin.Registry([Plugin.make({ name: "rt", version: "1", description: "runtime check", stages: [sentences, embed] })])
const program = Effect.gen(function* () {
  const graph = yield* Graph.validate(
    {
      name: "runtime-check",
      nodes: [
        { id: "s", stage: "rt/sentences" },
        { id: "e", stage: "rt/embed", params: { model: modelDir }, inputs: { sentences: "s.sentences" } }
      ]
    },
    registry
  )
  return yield* Runner.run(graph, {})
}).pipe(Effect.provide(layerFileSystem(storeDir)))

const result = await Effect.runPromise(program)
const v = result.nodes.e.outputs.vectors
console.log(JSON.stringify({ runtime: typeof Bun !== "undefined" ? "bun" : typeof Deno !== "undefined" ? "deno" : "node", dim: v.dim, count: v.count, data: Array.from(v.data) }))
