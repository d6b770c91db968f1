import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Schema } from "effect"
import { writeFileAtomic } from "./internal/atomicFs.js"

/**
 * How a port's value is laid out on disk inside a node's artifact folder. Formats write into a folder
 * that the store renames into place once every port is written; each file is still written with
 * writeFileAtomic (temp file, fsync, rename), so what the rename publishes is on disk, not in caches.
 */
export interface ArtifactFormat<A> {
  readonly kind: "json" | "records" | "vectors" | "directory"
  readonly write: (dir: string, port: string, value: A) => Promise<void>
  readonly read: (dir: string, port: string) => Promise<A>
}

/**
 * A copy of a value without `undefined` object fields, as JSON itself would write it: an optional field
 * left `undefined` (`devSpearman: undefined` when there is no dev set) is absent, not an error.
 */
export const omitUndefined = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(omitUndefined)
  if (value === null || typeof value !== "object" || ArrayBuffer.isView(value)) return value
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = omitUndefined(v)
  return out
}

/** One JSON document, encoded and decoded with the port's schema. */
export const json = <S extends Schema.Codec<any, any>>(schema: S): ArtifactFormat<S["Type"]> => {
  const codec = Schema.toCodecJson(schema)
  return {
    kind: "json",
    write: (dir, port, value) =>
      writeFileAtomic(path.join(dir, `${port}.json`), JSON.stringify(Schema.encodeSync(codec)(omitUndefined(value)), null, 2)),
    read: async (dir, port) =>
      Schema.decodeUnknownSync(codec)(JSON.parse(await fs.readFile(path.join(dir, `${port}.json`), "utf8")))
  }
}

/** An array of records as JSON Lines, one record a line, each checked against the item schema. */
export const records = <S extends Schema.Codec<any, any>>(item: S): ArtifactFormat<ReadonlyArray<S["Type"]>> => {
  const codec = Schema.toCodecJson(item)
  const encode = Schema.encodeSync(codec)
  const decode = Schema.decodeUnknownSync(codec)
  return {
    kind: "records",
    write: (dir, port, value) =>
      writeFileAtomic(path.join(dir, `${port}.jsonl`), value.map((r) => JSON.stringify(encode(omitUndefined(r))) + "\n").join("")),
    read: async (dir, port) => {
      const file = path.join(dir, `${port}.jsonl`)
      const text = await fs.readFile(file, "utf8")
      const out: Array<S["Type"]> = []
      let line = 0
      for (const raw of text.split("\n")) {
        line++
        if (raw.length === 0) continue
        try {
          out.push(decode(JSON.parse(raw)))
        } catch (e) {
          throw new Error(`${file}:${line}: ${e instanceof Error ? e.message : String(e)}`)
        }
      }
      return out
    }
  }
}

/** A matrix of float32 row vectors with optional row ids: `<port>.f32` (little-endian) + `<port>.json` header. */
export interface Vectors {
  readonly dim: number
  readonly count: number
  readonly data: Float32Array
  readonly ids?: ReadonlyArray<string> | undefined
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

export const vectors: ArtifactFormat<Vectors> = {
  kind: "vectors",
  write: async (dir, port, value) => {
    if (value.data.length !== value.dim * value.count) {
      throw new Error(`vectors '${port}': data has ${value.data.length} floats, expected count*dim = ${value.count}*${value.dim}`)
    }
    if (!littleEndian) throw new Error("vectors: big-endian hosts are not supported")
    await writeFileAtomic(path.join(dir, `${port}.f32`), new Uint8Array(value.data.buffer, value.data.byteOffset, value.data.byteLength))
    await writeFileAtomic(
      path.join(dir, `${port}.json`),
      JSON.stringify({ format: "float32-le", dim: value.dim, count: value.count, ids: value.ids ?? null })
    )
  },
  read: async (dir, port) => {
    const header = JSON.parse(await fs.readFile(path.join(dir, `${port}.json`), "utf8")) as {
      dim: number
      count: number
      ids: Array<string> | null
    }
    const bytes = await fs.readFile(path.join(dir, `${port}.f32`))
    if (bytes.byteLength !== header.dim * header.count * 4) {
      throw new Error(`vectors '${port}': ${bytes.byteLength} bytes on disk, header says ${header.count}x${header.dim} float32`)
    }
    // Copy into a fresh, aligned buffer: Buffer slices may start at an unaligned offset.
    const data = new Float32Array(header.dim * header.count)
    new Uint8Array(data.buffer).set(bytes)
    return { dim: header.dim, count: header.count, data, ids: header.ids ?? undefined }
  }
}

/** A folder (a model, an index): the stage returns a folder it wrote; the store moves it into the artifact. */
export interface DirectoryRef {
  readonly path: string
}

export const directory: ArtifactFormat<DirectoryRef> = {
  kind: "directory",
  write: async (dir, port, value) => {
    const target = path.join(dir, port)
    try {
      await fs.rename(value.path, target)
    } catch {
      await fs.cp(value.path, target, { recursive: true })
    }
  },
  read: async (dir, port) => {
    const target = path.join(dir, port)
    const stat = await fs.stat(target)
    if (!stat.isDirectory()) throw new Error(`directory '${port}' is missing in ${dir}`)
    return { path: target }
  }
}
