import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { Plugin } from "@embedflow/core"
import { defaultPluginModules } from "./defaultPlugins.js"
import { importModule } from "./importModule.js"

/** A plugin entry: a path (relative to `baseDir`) or a package name. */
const specifierOf = (entry: string, baseDir: string): string =>
  entry.startsWith(".") || path.isAbsolute(entry) ? pathToFileURL(path.resolve(baseDir, entry)).href : entry

/**
 * The built-in plugins (plus `extra` modules, if given) as one registry. `Graph.load` adds the plugins
 * a graph names in `plugins:` itself, reporting bad entries as graph problems.
 */
export const loadRegistry = async (extra: ReadonlyArray<string> = [], baseDir = process.cwd()): Promise<Plugin.Registry> => {
  const plugins: Array<Plugin.Plugin> = []
  for (const s of [...defaultPluginModules, ...extra.map((e) => specifierOf(e, baseDir))]) {
    try {
      // Recorded as a resolved URL, so a worker thread or another process imports the very same module.
      plugins.push(Plugin.recordModule(await Plugin.load(s, { importModule }), import.meta.resolve(s)))
    } catch (e) {
      throw new Error(`cannot load plugin '${s}': ${e instanceof Error ? e.message : String(e)}`)
    }
  }
  return new Plugin.Registry(plugins)
}
