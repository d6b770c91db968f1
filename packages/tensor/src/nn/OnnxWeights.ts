/**
 * Weights in and out of Hugging Face-layout ONNX model folders (config.json + onnx/model.onnx).
 *
 * Load: the graph is checked (every op must be one the TypeScript layers reproduce: plain ONNX ops
 * of BERT / GPT-2 / OPT exports; fused com.microsoft kernels, quantised or fp16 weights and external
 * data are refused, naming the node or initializer), then each parameter of a BertEncoder or
 * Gpt2Decoder is bound to the initializer that holds it:
 * - by its Hugging Face name (optionally under a wrapper prefix such as "bert." or "transformer."):
 *   embeddings, LayerNorms, biases, GPT-2's Conv1D weights;
 * - or, for nn.Linear weights that torch.onnx constant-folds into anonymous "onnx::MatMul_<n>"
 *   initializers ([in, out], transposed from torch), by the MatMul/Gemm node that consumes them,
 *   whose name is the module path ("/encoder/layer.0/attention/self/query/MatMul" ->
 *   encoder.layer.0.attention.self.query.weight).
 * The layout of a named matrix ([in, out] or torch's [out, in]) is read from its consumer: MatMul
 * takes [in, out], Gemm with transB=1 and Transpose take [out, in]. GPT-2's fused c_attn is split
 * into q/k/v column blocks; a tied LM head is bound to the token embeddings (transposed).
 * A float matrix used by a MatMul/Gemm/Gather that no parameter claims is an unknown layout: refused.
 *
 * Export: a copy of the original bytes with every bound initializer's payload overwritten by the
 * current values (LoRA adapters merged), so the graph, its names, inputs, outputs and metadata are
 * unchanged and onnxruntime, transformers.js and the Encoder load it as before.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { type Parameter } from "../Head.js"
import { initializerValues, type OnnxGraph, type OnnxInitializer, type OnnxNode, readOnnxGraph, writeInitializerValues } from "../internal/onnxProto.js"
import { activationFromConfig } from "./Activation.js"
import { BertEncoder } from "./BertEncoder.js"
import { Dense } from "./Dense.js"
import { Gpt2Decoder } from "./Gpt2Decoder.js"

export type OnnxArchitecture = "bert" | "gpt2" | "opt"

/** How a parameter's values sit inside an initializer. */
type Placement =
  | { readonly kind: "copy" }
  /** initializer = parameterᵀ (both 2-D). */
  | { readonly kind: "transpose" }
  /** parameter = initializer[:, start:start+count] (2-D) or initializer[start:start+count] (1-D). */
  | { readonly kind: "columns"; readonly start: number }

interface Binding {
  readonly param: Parameter
  readonly initializer: OnnxInitializer
  readonly placement: Placement
}

export interface LoadedOnnxModel {
  readonly architecture: OnnxArchitecture
  readonly model: BertEncoder | Gpt2Decoder
  /** The original model bytes (export patches a copy). */
  readonly bytes: Uint8Array
  /** Folder it was read from, when read from a folder. */
  readonly dir: string | undefined
  /** Parameter name -> initializer name(s) it was read from. */
  readonly sources: ReadonlyMap<string, ReadonlyArray<string>>
  readonly bindings: ReadonlyArray<Binding>
}

/**
 * Ops of plain (unoptimised) BERT / GPT-2 / OPT exports that the TypeScript layers reproduce, plus
 * the parameter-free pooling/normalising tail of sentence-transformers exports (Clip, ReduceL2, ...).
 */
const SUPPORTED_OPS = new Set([
  "Abs", "Add", "And", "Cast", "CastLike", "Ceil", "Clip", "Concat", "Constant", "ConstantOfShape", "CumSum", "Div", "Equal",
  "Erf", "Exp", "Expand", "Flatten", "Floor", "Gather", "GatherElements", "Gelu", "Gemm", "Greater", "GreaterOrEqual",
  "Identity", "IsInf", "IsNaN", "LayerNormalization", "Less", "LessOrEqual", "Log", "MatMul", "Max", "Min", "Mod", "Mul",
  "Neg", "Not", "Or", "Pow", "Range", "Reciprocal", "ReduceL2", "ReduceMax", "ReduceMean", "ReduceSum", "ReduceSumSquare",
  "Relu", "Reshape", "ScatterND", "Shape", "Sigmoid", "Size", "Slice", "Softmax", "Split", "Sqrt", "Squeeze", "Sub", "Tanh",
  "Tile", "Transpose", "Trilu", "Unsqueeze", "Where"
])

const FLOAT = 1

const fail = (where: string, message: string): never => {
  throw new Error(`${where}: ${message}`)
}

/** Refuses graphs with ops the engine does not reproduce (naming node and op) or weights it cannot train. */
const checkGraph = (graph: OnnxGraph, where: string): void => {
  for (const node of graph.nodes) {
    const op = node.domain === "" ? node.opType : `${node.domain}.${node.opType}`
    if (node.domain !== "" || !SUPPORTED_OPS.has(node.opType)) {
      fail(where, `node "${node.name || node.outputs[0]}" has op ${op}, which the TypeScript layers do not implement ` +
        `(fused com.microsoft kernels come from onnxruntime's optimiser and QuantizeLinear/MatMulInteger from quantisation: ` +
        `train from the plain fp32 export)`)
    }
  }
  for (const t of graph.initializers.values()) {
    if (t.external) fail(where, `initializer "${t.name}" is stored as external data; only self-contained model.onnx files are supported`)
  }
}

/** node name "/bert/encoder/layer.0/attention/self/query/MatMul" -> "bert.encoder.layer.0.attention.self.query" */
const modulePath = (nodeName: string): string | undefined => {
  const parts = nodeName.split("/").filter((p) => p !== "")
  return parts.length >= 2 ? parts.slice(0, -1).join(".") : undefined
}

class Resolver {
  readonly consumers = new Map<string, Array<{ node: OnnxNode; index: number }>>()
  /** module path -> anonymous weight initializer of its MatMul/Gemm */
  readonly byModule = new Map<string, { init: OnnxInitializer; node: OnnxNode }>()

  constructor(readonly graph: OnnxGraph, readonly where: string) {
    for (const node of graph.nodes) {
      node.inputs.forEach((input, index) => {
        if (!graph.initializers.has(input)) return
        const list = this.consumers.get(input) ?? []
        list.push({ node, index })
        this.consumers.set(input, list)
        const path = modulePath(node.name)
        if ((node.opType === "MatMul" || node.opType === "Gemm") && index === 1 && path !== undefined) {
          this.byModule.set(path, { init: graph.initializers.get(input)!, node })
        }
      })
    }
  }

  named(name: string): OnnxInitializer | undefined {
    return this.graph.initializers.get(name)
  }

  /** Whether a 2-D initializer is stored [in, out] (true) or [out, in] (false), judged by its consumers. */
  private inOut(init: OnnxInitializer, inDim: number, outDim: number): boolean {
    for (const { node, index } of this.consumers.get(init.name) ?? []) {
      if (node.opType === "MatMul" && index === 1) return true
      if (node.opType === "Gemm" && index === 1) return (node.ints.get("transB") ?? 0) === 0
      if (node.opType === "Transpose") return false
    }
    const [a, b] = init.dims
    if (inDim !== outDim && a === inDim && b === outDim) return true
    if (inDim !== outDim && a === outDim && b === inDim) return false
    return fail(this.where, `cannot tell whether initializer "${init.name}" [${init.dims.join(", ")}] is [in, out] or [out, in] from its consumers`)
  }

  /** The [in, out] weight of a linear module: by name "<path>.weight" or through its MatMul/Gemm node. */
  matrix(path: string, inDim: number, outDim: number): { init: OnnxInitializer; placement: Placement } | undefined {
    const init = this.named(`${path}.weight`) ?? this.byModule.get(path)?.init
    if (init === undefined) return undefined
    if (init.dims.length !== 2) fail(this.where, `initializer "${init.name}" for ${path}.weight has dims [${init.dims.join(", ")}], expected a matrix`)
    return { init, placement: this.inOut(init, inDim, outDim) ? { kind: "copy" } : { kind: "transpose" } }
  }
}

const expectDims = (where: string, init: OnnxInitializer, dims: ReadonlyArray<number>, what: string): void => {
  if (init.dataType !== FLOAT) fail(where, `initializer "${init.name}" (${what}) has ONNX data type ${init.dataType}; only float32 weights are trainable`)
  if (init.dims.length !== dims.length || init.dims.some((d, i) => d !== dims[i])) {
    fail(where, `initializer "${init.name}" (${what}) has dims [${init.dims.join(", ")}], expected [${dims.join(", ")}]`)
  }
}

const num = (config: Record<string, unknown>, key: string, where: string, fallback?: number): number => {
  const v = config[key] ?? fallback
  if (typeof v !== "number" || !Number.isFinite(v)) return fail(where, `config.json field "${key}" must be a number, got ${JSON.stringify(config[key])}`)
  return v
}

/** The wrapper prefix under which `suffix` is stored ("" / "bert." / "transformer." / "model.decoder."). */
const prefixOf = (graph: OnnxGraph, suffix: string, where: string, what: string): string => {
  for (const name of graph.initializers.keys()) if (name === suffix || name.endsWith(`.${suffix}`)) return name.slice(0, name.length - suffix.length)
  return fail(where, `no initializer named "${suffix}" (or "<prefix>.${suffix}"): not a ${what} export this loader knows`)
}

type Bind = (param: Parameter, init: OnnxInitializer | undefined, placement: Placement, what: string) => void

const bertFrom = (config: Record<string, unknown>, graph: OnnxGraph, r: Resolver, bind: Bind, where: string): BertEncoder => {
  const pet = config.position_embedding_type
  if (pet !== undefined && pet !== "absolute") fail(where, `position_embedding_type "${String(pet)}" is not supported (absolute only)`)
  const model = new BertEncoder({
    vocabSize: num(config, "vocab_size", where),
    hiddenSize: num(config, "hidden_size", where),
    numLayers: num(config, "num_hidden_layers", where),
    numHeads: num(config, "num_attention_heads", where),
    intermediateSize: num(config, "intermediate_size", where),
    maxPositions: num(config, "max_position_embeddings", where),
    typeVocabSize: num(config, "type_vocab_size", where, 2),
    layerNormEps: num(config, "layer_norm_eps", where, 1e-12),
    activation: activationFromConfig(String(config.hidden_act ?? "gelu"), where),
    // Dropout is opt-in: only a fine-tuning caller that sets hidden_dropout_prob in the config it passes gets it.
    hiddenDropout: typeof config.embedflow_dropout === "number" ? config.embedflow_dropout : 0
  })
  const prefix = prefixOf(graph, "embeddings.word_embeddings.weight", where, "BERT")
  const denses = new Map([...model.attentionProjections(), ...model.feedForwardProjections()].map((d) => [d.weight.name, d]))
  for (const p of model.allParams()) {
    const dense = denses.get(p.name)
    if (dense !== undefined) {
      const m = r.matrix(`${prefix}${dense.name}`, dense.inputDim, dense.outputDim)
      bind(p, m?.init, m?.placement ?? { kind: "copy" }, p.name)
    } else bind(p, r.named(`${prefix}${p.name}`), { kind: "copy" }, p.name)
  }
  return model
}

const decoderFrom = (
  architecture: "gpt2" | "opt", config: Record<string, unknown>, graph: OnnxGraph, r: Resolver, bind: Bind, where: string
): Gpt2Decoder => {
  const gpt2 = architecture === "gpt2"
  if (!gpt2) {
    if (config.do_layer_norm_before === false) fail(where, "OPT with do_layer_norm_before = false (post-LN, opt-350m) is not supported")
    const proj = config.word_embed_proj_dim
    if (proj !== undefined && proj !== config.hidden_size) fail(where, `OPT word_embed_proj_dim ${String(proj)} != hidden_size (project_in/out) is not supported`)
  }
  const hidden = num(config, gpt2 ? "n_embd" : "hidden_size", where)
  const tied = config.tie_word_embeddings !== false
  const maxPositions = num(config, gpt2 ? "n_positions" : "max_position_embeddings", where) + (gpt2 ? 0 : 2)
  const model = new Gpt2Decoder({
    vocabSize: num(config, "vocab_size", where),
    hiddenSize: hidden,
    numLayers: num(config, gpt2 ? "n_layer" : "num_hidden_layers", where),
    numHeads: num(config, gpt2 ? "n_head" : "num_attention_heads", where),
    intermediateSize: gpt2 ? (typeof config.n_inner === "number" ? config.n_inner : 4 * hidden) : num(config, "ffn_dim", where),
    maxPositions,
    layerNormEps: gpt2 ? num(config, "layer_norm_epsilon", where, 1e-5) : 1e-5,
    activation: activationFromConfig(String(config.activation_function ?? (gpt2 ? "gelu_new" : "relu")), where),
    tiedLmHead: tied,
    positionOffset: gpt2 ? 0 : 2
  })
  const prefix = prefixOf(graph, gpt2 ? "wte.weight" : "embed_tokens.weight", where, gpt2 ? "GPT-2" : "OPT")
  const linear = (dense: Dense, path: string) => {
    const m = r.matrix(`${prefix}${path}`, dense.inputDim, dense.outputDim)
    bind(dense.weight, m?.init, m?.placement ?? { kind: "copy" }, dense.weight.name)
    if (dense.bias) bind(dense.bias, r.named(`${prefix}${path}.bias`), { kind: "copy" }, dense.bias.name)
  }
  const norm = (ln: { weight: Parameter; bias: Parameter }, path: string) => {
    bind(ln.weight, r.named(`${prefix}${path}.weight`), { kind: "copy" }, ln.weight.name)
    bind(ln.bias, r.named(`${prefix}${path}.bias`), { kind: "copy" }, ln.bias.name)
  }
  bind(model.tokenEmbeddings.weight, r.named(`${prefix}${gpt2 ? "wte" : "embed_tokens"}.weight`), { kind: "copy" }, "token embeddings")
  bind(model.positionEmbeddings.weight, r.named(`${prefix}${gpt2 ? "wpe" : "embed_positions"}.weight`), { kind: "copy" }, "position embeddings")
  model.layers.forEach((layer, l) => {
    if (gpt2) {
      const h = `h.${l}`
      norm(layer.attentionNorm, `${h}.ln_1`)
      const fused = r.named(`${prefix}${h}.attn.c_attn.weight`)
      const fusedBias = r.named(`${prefix}${h}.attn.c_attn.bias`)
      if (fused !== undefined && fused.dims[0] !== hidden) fail(where, `"${fused.name}" has dims [${fused.dims.join(", ")}], expected Conv1D's [${hidden}, ${3 * hidden}]`)
      ;[layer.query, layer.key, layer.value].forEach((d, i) => {
        bind(d.weight, fused, { kind: "columns", start: i * hidden }, d.weight.name)
        bind(d.bias!, fusedBias, { kind: "columns", start: i * hidden }, d.bias!.name)
      })
      linear(layer.attentionOutput, `${h}.attn.c_proj`)
      norm(layer.feedForwardNorm, `${h}.ln_2`)
      linear(layer.fc1, `${h}.mlp.c_fc`)
      linear(layer.fc2, `${h}.mlp.c_proj`)
    } else {
      const p = `layers.${l}`
      norm(layer.attentionNorm, `${p}.self_attn_layer_norm`)
      linear(layer.query, `${p}.self_attn.q_proj`)
      linear(layer.key, `${p}.self_attn.k_proj`)
      linear(layer.value, `${p}.self_attn.v_proj`)
      linear(layer.attentionOutput, `${p}.self_attn.out_proj`)
      norm(layer.feedForwardNorm, `${p}.final_layer_norm`)
      linear(layer.fc1, `${p}.fc1`)
      linear(layer.fc2, `${p}.fc2`)
    }
  })
  norm(model.finalNorm, gpt2 ? "ln_f" : "final_layer_norm")
  // The LM head lives outside the backbone prefix ("lm_head"), named or as an anonymous MatMul weight.
  const head = r.matrix("lm_head", hidden, model.config.vocabSize)
  if (model.lmHead) bind(model.lmHead.weight, head?.init, head?.placement ?? { kind: "copy" }, "lm_head.weight (untied)")
  else if (head !== undefined && head.init !== r.named(`${prefix}${gpt2 ? "wte" : "embed_tokens"}.weight`)) {
    // tied: E [vocab, hidden] is the head's [out, in]
    bind(model.tokenEmbeddings.weight, head.init, head.placement.kind === "copy" ? { kind: "transpose" } : { kind: "copy" }, "tied lm_head")
  }
  return model
}

const ARCHITECTURES: Record<string, OnnxArchitecture> = { bert: "bert", gpt2: "gpt2", opt: "opt" }

/** Loads a model from ONNX bytes and its Hugging Face config (the parsed config.json). */
export const loadOnnxModelBytes = (bytes: Uint8Array, config: Record<string, unknown>, where = "model.onnx", dir?: string): LoadedOnnxModel => {
  const type = String(config.model_type)
  const architecture = ARCHITECTURES[type]
  if (architecture === undefined) fail(where, `model_type "${type}" is not supported (bert, gpt2, opt; MiniLM, E5 and BGE are "bert")`)
  const graph = readOnnxGraph(bytes)
  checkGraph(graph, where)
  const r = new Resolver(graph, where)
  const bindings: Array<Binding> = []
  const bind: Bind = (param, init, placement, what) => {
    if (init === undefined) return fail(where, `no initializer holds ${what} (parameter ${param.name})`)
    const [rows, cols] = param.shape
    const dims =
      placement.kind === "transpose" ? [cols, rows]
      : placement.kind === "columns" ? init.dims
      : param.shape
    expectDims(where, init, dims, what)
    if (placement.kind === "columns") {
      const width = param.shape.length === 2 ? init.dims[1] : init.dims[0]
      const count = param.shape.length === 2 ? cols : rows
      if (placement.start + count > width || (param.shape.length === 2 && init.dims[0] !== rows)) {
        fail(where, `initializer "${init.name}" [${init.dims.join(", ")}] cannot hold ${what} [${param.shape.join(", ")}] at column ${placement.start}`)
      }
    }
    bindings.push({ param, initializer: init, placement })
  }
  const model = architecture === "bert" ? bertFrom(config, graph, r, bind, where) : decoderFrom(architecture, config, graph, r, bind, where)

  // Every weight the graph multiplies or looks up must belong to a parameter.
  const bound = new Set(bindings.map((b) => b.initializer.name))
  for (const [name, uses] of r.consumers) {
    const t = graph.initializers.get(name)!
    if (bound.has(name) || t.dataType !== FLOAT || t.dims.length < 2 || /(^|\.)pooler\./.test(name)) continue
    const use = uses.find(({ node, index }) => (node.opType === "MatMul" || node.opType === "Gemm") ? index <= 1 : node.opType === "Gather" && index === 0)
    if (use) fail(where, `initializer "${name}" [${t.dims.join(", ")}] used by node "${use.node.name}" (${use.node.opType}) is not a ${architecture} parameter this loader knows: unsupported layout`)
  }

  // Read values; a parameter bound twice (tied head) must agree.
  const seen = new Set<Parameter>()
  const sources = new Map<string, Array<string>>()
  for (const b of bindings) {
    const values = extract(initializerValues(bytes, b.initializer), b)
    sources.set(b.param.name, [...(sources.get(b.param.name) ?? []), b.initializer.name])
    if (!seen.has(b.param)) {
      b.param.value.set(values)
      seen.add(b.param)
      continue
    }
    let worst = 0
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i] - b.param.value[i]))
    if (worst > 1e-6) fail(where, `${b.param.name} is tied to "${b.initializer.name}" but their values differ by ${worst.toExponential(2)}`)
  }
  return { architecture, model, bytes, dir, sources, bindings }
}

/** The parameter's values out of its initializer's values. */
const extract = (init: Float32Array, b: Binding): Float32Array => {
  const p = b.param
  if (b.placement.kind === "copy") return init
  if (b.placement.kind === "transpose") {
    const [rows, cols] = p.shape
    const out = new Float32Array(rows * cols)
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = init[j * rows + i]
    return out
  }
  const width = b.initializer.dims[b.initializer.dims.length - 1]
  if (p.shape.length === 1) return init.slice(b.placement.start, b.placement.start + p.shape[0])
  const [rows, cols] = p.shape
  const out = new Float32Array(rows * cols)
  for (let i = 0; i < rows; i++) out.set(init.subarray(i * width + b.placement.start, i * width + b.placement.start + cols), i * cols)
  return out
}

/** Writes the parameter's values into its initializer's values (inverse of extract). */
const place = (init: Float32Array, b: Binding, values: Float32Array): void => {
  const p = b.param
  if (b.placement.kind === "copy") return init.set(values)
  if (b.placement.kind === "transpose") {
    const [rows, cols] = p.shape
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) init[j * rows + i] = values[i * cols + j]
    return
  }
  const width = b.initializer.dims[b.initializer.dims.length - 1]
  if (p.shape.length === 1) return init.set(values, b.placement.start)
  const [rows, cols] = p.shape
  for (let i = 0; i < rows; i++) init.set(values.subarray(i * cols, (i + 1) * cols), i * width + b.placement.start)
}

/** Throws, naming the node and op, when a serialized model holds an op the layers do not implement. */
export const checkOnnxModel = (model: Uint8Array, where = "model.onnx"): void => checkGraph(readOnnxGraph(model), where)

/** Loads `<dir>/config.json` and `<dir>/onnx/model.onnx`. */
export const loadOnnxModel = (dir: string): LoadedOnnxModel => {
  const file = join(dir, "onnx", "model.onnx")
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>
  return loadOnnxModelBytes(new Uint8Array(readFileSync(file)), config, file, dir)
}

/** The original graph with the current weights (LoRA adapters merged in, the model left as it is). */
export const exportOnnxModel = (loaded: LoadedOnnxModel): Uint8Array => {
  const out = loaded.bytes.slice()
  const model = loaded.model
  const adapters = new Map([...model.attentionProjections(), ...model.feedForwardProjections()].filter((d) => d.adapter).map((d) => [d.weight, d.adapter!]))
  const byInit = new Map<OnnxInitializer, Array<Binding>>()
  for (const b of loaded.bindings) byInit.set(b.initializer, [...(byInit.get(b.initializer) ?? []), b])
  for (const [init, bs] of byInit) {
    const values = initializerValues(loaded.bytes, init)
    const current = bs.map((b) => adapters.get(b.param)?.mergedWeight() ?? b.param.value)
    bs.forEach((b, k) => place(values, b, current[k]))
    // An initializer the graph shares between two parameters (deduplicated equal tensors) can only
    // hold one value: refuse to write it when training made them differ.
    bs.forEach((b, k) => {
      const back = extract(values, b)
      for (let i = 0; i < back.length; i++) {
        if (back[i] !== current[k][i]) {
          throw new Error(`exportOnnxModel: initializer "${init.name}" is shared by ${bs.map((x) => x.param.name).join(" and ")}, whose values now differ; the graph cannot hold both`)
        }
      }
    })
    writeInitializerValues(out, init, values)
  }
  return out
}

const copyTree = (src: string, dst: string, skip: string): void => {
  mkdirSync(dst, { recursive: true })
  for (const entry of readdirSync(src)) {
    const s = join(src, entry), d = join(dst, entry)
    if (s === skip || entry.startsWith(".")) continue
    if (statSync(s).isDirectory()) copyTree(s, d, skip)
    else copyFileSync(s, d)
  }
}

/**
 * Writes a model folder: every file of the source folder (config, tokenizer, ...) plus
 * onnx/model.onnx with the current weights, written to a temporary name and renamed into place.
 */
export const saveOnnxModelFolder = (loaded: LoadedOnnxModel, outDir: string): string => {
  if (loaded.dir === undefined) throw new Error("saveOnnxModelFolder: the model was not loaded from a folder; use exportOnnxModel")
  const modelFile = join(loaded.dir, "onnx", "model.onnx")
  copyTree(loaded.dir, outDir, modelFile)
  mkdirSync(join(outDir, "onnx"), { recursive: true })
  const target = join(outDir, "onnx", "model.onnx")
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}`
  writeFileSync(tmp, exportOnnxModel(loaded))
  renameSync(tmp, target)
  return target
}
