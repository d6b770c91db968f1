import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Context, Data, Effect, Layer } from "effect"
import { exists, tempSibling } from "./internal/atomicFs.js"
import type { PortType } from "./PortType.js"

export class ArtifactError extends Data.TaggedError("ArtifactError")<{
  readonly key: string
  readonly message: string
  readonly cause?: unknown
}> {}

export interface Manifest {
  readonly key: string
  readonly stage: string
  readonly version: string
  readonly nodeId: string
  readonly params: unknown
  readonly inputs: Readonly<Record<string, string>>
  readonly ports: Readonly<Record<string, { readonly type: string; readonly format: string }>>
  readonly createdAt: string
  readonly seconds: number
}

/**
 * A content-addressed store of node outputs. An entry is a folder named by its key that appears only
 * once every port and the manifest are written (written under a temp name, then renamed), so a run
 * killed midway leaves either a whole entry or none.
 */
export class ArtifactStore extends Context.Service<
  ArtifactStore,
  {
    readonly root: string
    readonly entryDir: (key: string) => string
    readonly has: (key: string) => Effect.Effect<boolean>
    readonly read: (
      key: string,
      ports: Readonly<Record<string, PortType<any>>>
    ) => Effect.Effect<Record<string, unknown>, ArtifactError>
    readonly write: (
      manifest: Manifest,
      ports: Readonly<Record<string, PortType<any>>>,
      values: Readonly<Record<string, unknown>>
    ) => Effect.Effect<void, ArtifactError>
  }
>()("@embedflow/core/ArtifactStore") {}

export const makeFileSystem = (root: string) => {
  const entryDir = (key: string) => path.join(root, "cache", key.slice(0, 2), key)
  return ArtifactStore.of({
    root,
    entryDir,
    has: (key) => Effect.promise(() => exists(path.join(entryDir(key), "manifest.json"))),
    read: (key, ports) =>
      Effect.tryPromise({
        try: async () => {
          const dir = entryDir(key)
          const out: Record<string, unknown> = {}
          for (const [port, type] of Object.entries(ports)) out[port] = await type.format.read(dir, port)
          return out
        },
        catch: (e) => new ArtifactError({ key, message: `cannot read cached outputs: ${e instanceof Error ? e.message : String(e)}`, cause: e })
      }),
    write: (manifest, ports, values) =>
      Effect.tryPromise({
        try: async () => {
          const final = entryDir(manifest.key)
          await fs.mkdir(path.dirname(final), { recursive: true })
          const tmp = tempSibling(final)
          await fs.mkdir(tmp, { recursive: true })
          try {
            for (const [port, type] of Object.entries(ports)) await type.format.write(tmp, port, values[port])
            await fs.writeFile(path.join(tmp, "manifest.json"), JSON.stringify(manifest, null, 2))
            if (await exists(final)) {
              // Another run finished the same work first: the entries are equal by construction.
              await fs.rm(tmp, { recursive: true, force: true })
            } else {
              await fs.rename(tmp, final)
            }
          } catch (e) {
            await fs.rm(tmp, { recursive: true, force: true })
            throw e
          }
        },
        catch: (e) => new ArtifactError({ key: manifest.key, message: `cannot store outputs: ${e instanceof Error ? e.message : String(e)}`, cause: e })
      })
  })
}

/** A store in a folder (default `.embedflow` under the working directory). */
export const layerFileSystem = (root: string) => Layer.succeed(ArtifactStore, makeFileSystem(root))
