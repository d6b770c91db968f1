import { register } from "tsx/esm/api"

let registered = false

const isTypeScript = (url: string) => /\.(c|m)?tsx?$/i.test(new URL(url, "file:///").pathname)

/**
 * Imports a graph file or plugin module. TypeScript files load natively where the runtime strips types
 * (Node >= 22.18, Bun, Deno); on older Node the tsx loader is registered once, process-wide, before the
 * first one, so `.ts` graphs and plugins share module instances (one `@embedflow/core`) with the CLI.
 */
export const importModule = async (url: string): Promise<unknown> => {
  const native = (process.features as { typescript?: unknown } | undefined)?.typescript
  if (!registered && isTypeScript(url) && !native) {
    register()
    registered = true
  }
  return import(url)
}
