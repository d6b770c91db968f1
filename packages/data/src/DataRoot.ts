import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { DataReadError } from "./DataError.js"

/** Options shared by every loader: where the public data sets live (default: {@link resolve}). */
export interface LoadOptions {
  readonly root?: string | undefined
  /** Accept a file that holds no record (default: a 0-row data set is a DataFormatError naming the file). */
  readonly allowEmpty?: boolean | undefined
}

const isDir = (p: string): boolean => {
  try {
    return fs.statSync(p).isDirectory()
  } catch {
    return false
  }
}

/**
 * The folder holding the public data sets: `$EMBEDFLOW_DATA` when set, else the first `shared/data`
 * found in the working directory or one of its ancestors (so `../shared/data` from the repo root).
 */
export const resolve = (options: { readonly cwd?: string; readonly env?: Readonly<Record<string, string | undefined>> } = {}) =>
  Effect.suspend(() => {
    const env = options.env ?? process.env
    const fromEnv = env.EMBEDFLOW_DATA
    if (fromEnv !== undefined && fromEnv !== "") {
      const abs = path.resolve(fromEnv)
      return isDir(abs)
        ? Effect.succeed(abs)
        : Effect.fail(new DataReadError({ path: abs, message: `EMBEDFLOW_DATA=${fromEnv} is not a directory` }))
    }
    const tried: Array<string> = []
    let dir = path.resolve(options.cwd ?? process.cwd())
    for (;;) {
      const candidate = path.join(dir, "shared", "data")
      tried.push(candidate)
      if (isDir(candidate)) return Effect.succeed(candidate)
      const parent = path.dirname(dir)
      if (parent === dir) break
      dir = parent
    }
    return Effect.fail(
      new DataReadError({
        path: tried[0]!,
        message: `no data root: EMBEDFLOW_DATA is not set and no shared/data folder was found in ${tried.join(", ")}; ` +
          `set EMBEDFLOW_DATA to the folder holding stsbenchmark/, snli/, trec/, sst2/, ag_news/, cranfield/, cisi/`
      })
    )
  })

/** Absolute path of `parts` under the data root (`options.root` or {@link resolve}). */
export const file = (options: LoadOptions | undefined, ...parts: ReadonlyArray<string>) =>
  options?.root !== undefined ? Effect.succeed(path.join(path.resolve(options.root), ...parts)) : Effect.map(resolve(), (root) => path.join(root, ...parts))
