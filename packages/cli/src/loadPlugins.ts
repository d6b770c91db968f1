import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { Plugin } from "@embedflow/core"
import { defaultPluginModules } from "./defaultPlugins.js"

/** Resolves a graph's `plugins:` entry: a path (relative to the graph file) or a package name. */
const specifierOf = (entry: string, baseDir: string): string =>
  entry.startsWith(".") || path.isAbsolute(entry) ? pathToFileURL(path.resolve(baseDir, entry)).href : entry

/** The built-in plugins plus those a graph names, as one registry. */
export const loadRegistry = async (extra: ReadonlyArray<string> = [], baseDir = process.cwd()): Promise<Plugin.Registry> => {
  const specifiers = [...defaultPluginModules, ...extra.map((e) => specifierOf(e, baseDir))]
  const plugins: Array<Plugin.Plugin> = []
  for (const s of specifiers) {
    try {
      plugins.push(await Plugin.load(s))
    } catch (e) {
      throw new Error(`cannot load plugin '${s}': ${e instanceof Error ? e.message : String(e)}`)
    }
  }
  return new Plugin.Registry(plugins)
}

/** The `plugins:` list of a raw (not yet validated) graph, if it has a well-formed one. */
export const pluginsOf = (raw: unknown): ReadonlyArray<string> => {
  const list = (raw as { plugins?: unknown } | undefined)?.plugins
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === "string") : []
}
