import { Layer } from "effect"
import type { AnyStage } from "./Stage.js"

/**
 * A package of stages. `layer` provides the services its stages need (model hubs, indexes); the
 * runner builds the layers of the loaded plugins once per run and releases them when it ends.
 */
export interface Plugin {
  readonly name: string
  readonly version: string
  readonly description: string
  readonly stages: ReadonlyArray<AnyStage>
  readonly layer?: Layer.Layer<any, any, never> | undefined
}

export const make = (plugin: Plugin): Plugin => {
  for (const stage of plugin.stages) {
    if (!stage.name.startsWith(`${plugin.name}/`)) {
      throw new Error(`plugin '${plugin.name}': stage '${stage.name}' must be named '${plugin.name}/<stage>'`)
    }
  }
  return plugin
}

/** All stages of the loaded plugins, by name. */
export class Registry {
  private readonly byName = new Map<string, AnyStage>()
  readonly plugins: ReadonlyArray<Plugin>
  constructor(plugins: ReadonlyArray<Plugin>) {
    // The same plugin named twice (built in and in a graph's `plugins:`) is loaded once.
    this.plugins = plugins.filter((p, i) => plugins.indexOf(p) === i)
    for (const plugin of this.plugins) {
      for (const stage of plugin.stages) {
        if (this.byName.has(stage.name)) throw new Error(`stage '${stage.name}' is provided by two plugins`)
        this.byName.set(stage.name, stage)
      }
    }
  }
  get(name: string): AnyStage | undefined {
    return this.byName.get(name)
  }
  /** The module of the plugin that provides stage `name` (see {@link moduleOf}). */
  moduleOf(name: string): string | undefined {
    const plugin = this.plugins.find((p) => p.stages.some((s) => s.name === name))
    return plugin ? moduleOf(plugin) : undefined
  }
  stages(): ReadonlyArray<AnyStage> {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name))
  }
  /** The layers of all plugins merged; each is built once per run. */
  layer(): Layer.Layer<any, any, never> {
    const layers = this.plugins.flatMap((p) => (p.layer ? [p.layer] : []))
    return layers.length === 0 ? (Layer.empty as unknown as Layer.Layer<any, any, never>) : Layer.mergeAll(...(layers as [Layer.Layer<any, any, never>]))
  }
}

const modules = new WeakMap<Plugin, string>()

/**
 * The module a plugin was imported from (`Plugin.load`, a graph's `plugins:`), so that a worker thread
 * or another process can import the same plugin to run its stages; undefined for a plugin made in code.
 */
export const moduleOf = (plugin: Plugin): string | undefined => modules.get(plugin)

/** Records where `plugin` was imported from (see {@link moduleOf}); a resolved URL replaces a bare name. */
export const recordModule = (plugin: Plugin, specifier: string): Plugin => {
  modules.set(plugin, specifier)
  return plugin
}

/** The plugin a module exports (`plugin` or default); `name` is how the module was named, for the message. */
export const pluginOf = (mod: unknown, name: string): Plugin => {
  const m = mod as { plugin?: Plugin; default?: Plugin } | undefined
  const plugin = m?.plugin ?? m?.default
  if (!plugin || typeof plugin !== "object" || !Array.isArray(plugin.stages) || typeof plugin.name !== "string") {
    throw new Error(`'${name}' does not export a plugin (expected 'export const plugin = Plugin.make({...})')`)
  }
  return plugin
}

/** Loads a plugin module by package name or URL; it must export `plugin` (or a default Plugin). */
export const load = async (specifier: string, options: { readonly importModule?: (url: string) => Promise<unknown> } = {}): Promise<Plugin> =>
  recordModule(pluginOf(await (options.importModule ? options.importModule(specifier) : import(specifier)), specifier), specifier)
