let registered = false

const isTypeScript = (url: string) => /\.(c|m)?tsx?$/i.test(new URL(url, "file:///").pathname)

/**
 * Imports a graph file or plugin module. TypeScript files load natively where the runtime strips types
 * (Node >= 22.18 — set-up provides Node 24 — Bun, Deno). Only a runtime without type stripping (an older
 * Node, or one started with --no-experimental-strip-types) loads tsx, registered once, process-wide,
 * before the first `.ts` module, so graphs and plugins share module instances (one `@embedflow/core`)
 * with the CLI.
 */
export const importModule = async (url: string): Promise<unknown> => {
  const native = (process.features as { typescript?: unknown } | undefined)?.typescript
  if (!registered && isTypeScript(url) && !native) {
    const { register } = await import("tsx/esm/api")
    register()
    registered = true
  }
  return import(url)
}
