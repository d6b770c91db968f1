import { Effect, type Scope } from "effect"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, dirname, join } from "node:path"
import * as ort from "onnxruntime-node"
import { ModelError } from "../ModelError.js"
import type { LoadOptions } from "../ModelSource.js"
import { onnxFileOf } from "./folder.js"
import { extendModel, extensionBuilder, inspectModel, type ModelSummary, producerOf } from "@embedflow/onnx"

export interface Session {
  readonly session: ort.InferenceSession
  readonly device: "cpu" | "cuda"
  readonly inputNames: ReadonlyArray<string>
  readonly outputNames: ReadonlyArray<string>
  /** Fixed dims of an input or output (symbolic dims are strings). */
  readonly shapeOf: (name: string) => ReadonlyArray<number | string> | undefined
}

/**
 * onnxruntime's intra-op threads when the load options do not say: EMBEDFLOW_THREADS (the worker pool
 * sets it to cores / workers in each thread, so threads × workers do not oversubscribe the cores), else
 * onnxruntime's default (one per core).
 */
const threadsFromEnv = (): number | undefined => {
  const n = Number(process.env.EMBEDFLOW_THREADS)
  return Number.isInteger(n) && n > 0 ? n : undefined
}

const sessionOptions = (options: LoadOptions, provider: "cpu" | "cuda"): ort.InferenceSession.SessionOptions => ({
  executionProviders: [provider],
  graphOptimizationLevel: "all",
  ...((options.intraOpNumThreads ?? threadsFromEnv()) ? { intraOpNumThreads: options.intraOpNumThreads ?? threadsFromEnv() } : {}),
  ...(options.allowSpinning === false ? { extra: { session: { intra_op: { allow_spinning: "0" } } } } : {})
})

const create = (model: string, source: string | Uint8Array, options: LoadOptions): Effect.Effect<{ session: ort.InferenceSession; device: "cpu" | "cuda" }, ModelError> => {
  const attempt = (provider: "cpu" | "cuda") =>
    Effect.tryPromise({
      try: () =>
        // Two calls because the overloads do not accept the union.
        typeof source === "string"
          ? ort.InferenceSession.create(source, sessionOptions(options, provider))
          : ort.InferenceSession.create(source, sessionOptions(options, provider)),
      catch: (e) =>
        new ModelError({
          message: `model "${model}": onnxruntime could not load ${onnxFileOf(options)} on ${provider}: ${e instanceof Error ? e.message : String(e)}`,
          model,
          file: onnxFileOf(options),
          cause: e
        })
    }).pipe(Effect.map((session) => ({ session, device: provider })))
  if (options.device !== "cuda") return attempt("cpu")
  return attempt("cuda").pipe(
    Effect.catch((e) =>
      Effect.logWarning(
        `model "${model}": the CUDA execution provider is unavailable in this onnxruntime-node build ` +
          `(${e.message.split("\n")[0]}); falling back to CPU. Install the CUDA build of onnxruntime-node for GPU inference.`
      ).pipe(Effect.andThen(attempt("cpu")))
    )
  )
}

const wrap = (s: { session: ort.InferenceSession; device: "cpu" | "cuda" }): Session => {
  const shapes = new Map<string, ReadonlyArray<number | string>>()
  for (const m of [...s.session.inputMetadata, ...s.session.outputMetadata]) {
    if (m.isTensor) shapes.set(m.name, m.shape)
  }
  return {
    session: s.session,
    device: s.device,
    inputNames: s.session.inputNames,
    outputNames: s.session.outputNames,
    shapeOf: (name) => shapes.get(name)
  }
}

/** An onnxruntime session released when the scope closes. */
export const openSession = (model: string, dir: string, options: LoadOptions): Effect.Effect<Session, ModelError, Scope.Scope> =>
  Effect.acquireRelease(
    create(model, join(dir, onnxFileOf(options)), options).pipe(Effect.map(wrap)),
    (s) => Effect.promise(() => s.session.release())
  )

/** The final hidden state of a causal LM: the input of the MatMul/Gemm producing `logits`. */
export const lmHeadInput = (info: ModelSummary): string | undefined => {
  const head = producerOf(info, "logits")
  return head !== undefined && ["MatMul", "Gemm"].includes(head.opType) && head.inputs[0] ? head.inputs[0] : undefined
}

/**
 * Opens a causal LM whose graph only outputs `logits`, adding the LM head's input (the final
 * hidden state) as an extra output so last-token / PromptEOL pooling can read it.
 */
export const openSessionWithHidden = (model: string, dir: string, options: LoadOptions): Effect.Effect<Session & { readonly hiddenName: string }, ModelError, Scope.Scope> =>
  Effect.gen(function* () {
    const file = join(dir, onnxFileOf(options))
    const bytes = yield* Effect.try({
      try: () => new Uint8Array(readFileSync(file)),
      catch: (e) => new ModelError({ message: `model "${model}": cannot read ${onnxFileOf(options)}: ${String(e)}`, model, file: onnxFileOf(options), cause: e })
    })
    const info = yield* Effect.try({
      try: () => inspectModel(bytes),
      catch: (e) => new ModelError({ message: `model "${model}": ${onnxFileOf(options)} is not a readable ONNX model: ${String(e)}`, model, file: onnxFileOf(options), cause: e })
    })
    const hiddenName = lmHeadInput(info)
    if (hiddenName === undefined) {
      return yield* new ModelError({
        message: `model "${model}": its graph has no "last_hidden_state" output and "logits" is not produced by a MatMul/Gemm LM head, so the hidden state cannot be read`,
        model,
        file: onnxFileOf(options)
      })
    }
    // The hidden state becomes a graph output: a few bytes appended to the protobuf.
    const g = extensionBuilder(info)
    g.output(g.ref(hiddenName, "float32"))
    const patched = extendModel(bytes, g)
    // External weights are resolved next to the model file: load a copy from a temp folder that links them.
    const siblings = readdirSync(dirname(file)).filter((f) => f !== basename(file))
    const external = siblings.some((f) => f.startsWith(basename(file)) || f.endsWith(".data"))
    const s = yield* Effect.acquireRelease(
      Effect.suspend(() => {
        if (!external) return create(model, patched, options).pipe(Effect.map((x) => ({ ...x, tmp: undefined as string | undefined })))
        const tmp = mkdtempSync(join(tmpdir(), "embedflow-model-"))
        for (const f of siblings) symlinkSync(join(dirname(file), f), join(tmp, f))
        writeFileSync(join(tmp, basename(file)), patched)
        return create(model, join(tmp, basename(file)), options).pipe(
          Effect.map((x) => ({ ...x, tmp: tmp as string | undefined })),
          Effect.tapError(() => Effect.sync(() => rmSync(tmp, { recursive: true, force: true })))
        )
      }),
      (x) =>
        Effect.promise(() => x.session.release()).pipe(
          Effect.andThen(Effect.sync(() => x.tmp !== undefined && existsSync(x.tmp) && rmSync(x.tmp, { recursive: true, force: true })))
        )
    )
    return { ...wrap(s), hiddenName }
  })

/**
 * A session whose outputs include per-token hidden states: `last_hidden_state` for encoders, or
 * for a causal LM (only `logits`), the LM head's input exposed as an extra output.
 */
export const openHiddenStateSession = (model: string, dir: string, options: LoadOptions): Effect.Effect<{ readonly session: Session; readonly output: string }, ModelError, Scope.Scope> =>
  Effect.gen(function* () {
    const plain = wrap(yield* create(model, join(dir, onnxFileOf(options)), options))
    if (plain.outputNames.includes("last_hidden_state")) {
      yield* Effect.addFinalizer(() => Effect.promise(() => plain.session.release()))
      return { session: plain, output: "last_hidden_state" }
    }
    // Not needed further (a causal LM gets a patched session below): release it now.
    yield* Effect.promise(() => plain.session.release())
    if (!plain.outputNames.includes("logits")) {
      return yield* new ModelError({
        message: `model "${model}": the ONNX graph has neither a last_hidden_state nor a logits output (outputs: ${plain.outputNames.join(", ")})`,
        model,
        file: onnxFileOf(options)
      })
    }
    const patched = yield* openSessionWithHidden(model, dir, options)
    return { session: patched, output: patched.hiddenName }
  })

export const runSession = (model: string, s: Session, feeds: Record<string, ort.Tensor>): Effect.Effect<ort.InferenceSession.ReturnType, ModelError> =>
  Effect.tryPromise({
    try: () => {
      // Only the inputs this graph declares (e.g. no token_type_ids for models without segments).
      const used: Record<string, ort.Tensor> = {}
      for (const name of s.inputNames) if (feeds[name] !== undefined) used[name] = feeds[name]
      return s.session.run(used)
    },
    catch: (e) => new ModelError({ message: `model "${model}": onnxruntime run failed: ${e instanceof Error ? e.message : String(e)}`, model, cause: e })
  })
