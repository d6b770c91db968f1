import { Context, Effect, Layer, Scope, Semaphore } from "effect"
import { existsSync, realpathSync } from "node:fs"
import { isAbsolute, resolve } from "node:path"
import { type CausalLMOptions, type CausalLMShape, makeCausalLM } from "./CausalLM.js"
import { type CrossEncoderOptions, type CrossEncoderShape, makeCrossEncoder } from "./CrossEncoder.js"
import { type EncoderConfig, encoderConfig, type EncoderShape, makeEncoder } from "./Encoder.js"
import type { ModelError } from "./ModelError.js"
import type { LoadOptions } from "./ModelSource.js"

/**
 * What stages use to get models named in their params: each model is loaded once per run (sessions
 * cached by folder and options) and released when the run's scope closes.
 */
export interface ModelHubShape {
  readonly encoder: (config: Partial<EncoderConfig> & { readonly model: string }) => Effect.Effect<EncoderShape, ModelError>
  readonly causalLM: (model: string) => Effect.Effect<CausalLMShape, ModelError>
  readonly crossEncoder: (model: string) => Effect.Effect<CrossEncoderShape, ModelError>
}

export interface ModelHubOptions extends LoadOptions {
  /** Defaults for `encoder(...)` fields the caller leaves out (then encoderConfig's defaults). */
  readonly encoderDefaults?: Partial<Omit<EncoderConfig, "model">> | undefined
  readonly causalLM?: Omit<CausalLMOptions, keyof LoadOptions> | undefined
  readonly crossEncoder?: Omit<CrossEncoderOptions, keyof LoadOptions> | undefined
}

export class ModelHub extends Context.Service<ModelHub, ModelHubShape>()("@embedflow/models/ModelHub") {
  /** The hub with options from the environment (EMBEDFLOW_MODELS_DIR, EMBEDFLOW_ALLOW_REMOTE, ...). */
  static get layer(): Layer.Layer<ModelHub> {
    // One layer value for every plugin that names it, so the runner builds a single shared hub.
    return (defaultLayer ??= layerModelHub())
  }
}

let defaultLayer: Layer.Layer<ModelHub> | undefined

/**
 * Loads each model at most once per hub (keyed by its folder and options; concurrent requests
 * share one load) and releases every session when the layer's scope closes. A failed load is not
 * cached, so a fixed folder can be retried.
 */
export function layerModelHub(options: ModelHubOptions = {}): Layer.Layer<ModelHub> {
  return Layer.effect(ModelHub, makeModelHub(options))
}

/** The hub as a scoped value (its models are released with the scope). */
export const makeModelHub = (options: ModelHubOptions = {}): Effect.Effect<ModelHubShape, never, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const { encoderDefaults, causalLM: lmOptions, crossEncoder: ceOptions, ...load } = options
    const loads = new Map<string, Effect.Effect<unknown, ModelError>>()
    const lock = yield* Semaphore.make(1)

    /** The folder a name refers to when it exists locally, so "./m" and "/abs/m" share a load. */
    const folderKey = (model: string): string => {
      const candidates = isAbsolute(model) ? [model] : [...(load.modelsDir ? [resolve(load.modelsDir, model)] : []), resolve(model)]
      const found = candidates.find((p) => existsSync(p))
      return found === undefined ? model : realpathSync(found)
    }

    const cached = <A>(key: string, make: Effect.Effect<A, ModelError, Scope.Scope>): Effect.Effect<A, ModelError> =>
      lock
        .withPermits(1)(
          Effect.gen(function* () {
            const existing = loads.get(key)
            if (existing !== undefined) return existing
            // Memoized in the hub's scope; on failure the entry is dropped so the next call retries.
            const once = yield* Effect.cached(
              Scope.provide(scope)(make).pipe(Effect.tapError(() => Effect.sync(() => loads.delete(key))))
            )
            loads.set(key, once)
            return once
          })
        )
        .pipe(Effect.flatMap((once) => once as Effect.Effect<A, ModelError>))

    return ModelHub.of({
      encoder: (config) => {
        const full = encoderConfig({ ...encoderDefaults, ...config })
        const key = JSON.stringify(["encoder", folderKey(full.model), { ...full, model: undefined }, load])
        return cached(key, makeEncoder(full, full.onnxFile ? { ...load, onnxFile: full.onnxFile } : load))
      },
      causalLM: (model) => cached(JSON.stringify(["causalLM", folderKey(model), lmOptions, load]), makeCausalLM(model, { ...load, ...lmOptions })),
      crossEncoder: (model) =>
        cached(JSON.stringify(["crossEncoder", folderKey(model), ceOptions, load]), makeCrossEncoder(model, { ...load, ...ceOptions }))
    })
  })
