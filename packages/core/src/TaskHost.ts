import { Effect, Layer, ManagedRuntime } from "effect"
import { pluginOf, recordModule } from "./Plugin.js"
import type { AnyStage } from "./Stage.js"
import { StageError } from "./StageError.js"
import { executeTask, type StageTask, type TaskEventSink } from "./StageTask.js"

/**
 * The far side of a StageExecutor (a worker thread, a cluster runner): imports the plugin module a task
 * names, builds that plugin's services once, and runs tasks with `executeTask`. Dispose it to release
 * the services.
 */
export interface TaskHost {
  readonly run: (task: StageTask, emit: TaskEventSink) => Effect.Effect<Record<string, unknown>, StageError>
  readonly dispose: () => Promise<void>
}

interface LoadedPlugin {
  readonly stages: ReadonlyMap<string, AnyStage>
  readonly runtime: ManagedRuntime.ManagedRuntime<any, any>
}

export const makeTaskHost = (options: { readonly importModule?: (specifier: string) => Promise<unknown> } = {}): TaskHost => {
  const importModule = options.importModule ?? ((s: string) => import(s))
  const loaded = new Map<string, Promise<LoadedPlugin>>()
  const load = (specifier: string) => {
    let entry = loaded.get(specifier)
    if (!entry) {
      entry = importModule(specifier).then((mod) => {
        const plugin = recordModule(pluginOf(mod, specifier), specifier)
        return {
          stages: new Map(plugin.stages.map((s) => [s.name, s])),
          runtime: ManagedRuntime.make((plugin.layer ?? Layer.empty) as Layer.Layer<any, any, never>)
        }
      })
      loaded.set(specifier, entry)
    }
    return entry
  }
  return {
    run: (task, emit) =>
      Effect.gen(function* () {
        const specifier = task.module
        if (specifier === undefined) return yield* new StageError({ message: `stage '${task.stage}' has no plugin module to import` })
        const plugin = yield* Effect.tryPromise({
          try: () => load(specifier),
          catch: (e) => new StageError({ message: `cannot load plugin '${specifier}': ${e instanceof Error ? e.message : String(e)}`, cause: e })
        })
        const stage = plugin.stages.get(task.stage)
        if (!stage) return yield* new StageError({ message: `plugin '${specifier}' has no stage '${task.stage}'` })
        const services = yield* Effect.tryPromise({
          try: () => plugin.runtime.context(),
          catch: (e) => new StageError({ message: `the services of plugin '${specifier}' failed to start: ${e instanceof Error ? e.message : String(e)}`, cause: e })
        })
        return yield* (executeTask(stage, task, emit).pipe(Effect.provideContext(services)) as Effect.Effect<Record<string, unknown>, StageError>)
      }),
    dispose: async () => {
      for (const entry of loaded.values()) await (await entry.catch(() => undefined))?.runtime.dispose()
      loaded.clear()
    }
  }
}
