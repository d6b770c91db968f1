import * as path from "node:path"
import type { DirectoryRef, PortType } from "@embedflow/core"

/**
 * How a task's inputs travel: most ports are written into a store entry (one part per port, a list
 * port one part per element), but a folder (a model, an index) is not copied (writing it would move
 * it out of its own cache entry): a folder output of another entry goes as that entry's key and port,
 * which the runner reads from its store (a download from a bucket); any other folder by its path,
 * which every runner must reach (a shared file system).
 */
export type Carried = { readonly part: string } | { readonly ref: DirectoryRef } | { readonly entry: string; readonly port: string }
export type InputsLayout = Readonly<Record<string, Carried | { readonly list: ReadonlyArray<Carried> }>>

export interface PackedInputs {
  readonly layout: InputsLayout
  /** The parts to write into the inputs entry, with the port type to write each with. */
  readonly parts: Readonly<Record<string, { readonly type: PortType.PortType<any>; readonly value: unknown }>>
}

const isFolder = (type: PortType.PortType<any>) => type.format.kind === "directory"

/** `<cache>/<k2>/<key>/<port>` → the entry and port a folder belongs to. */
export const entryOfFolder = (cacheDir: string, folder: string): { readonly entry: string; readonly port: string } | undefined => {
  const parts = path.relative(cacheDir, folder).split(path.sep)
  return parts.length === 3 && parts[0] !== ".." && parts[1]!.startsWith(parts[0]!) ? { entry: parts[1]!, port: parts[2]! } : undefined
}

export const packInputs = (
  ports: Readonly<Record<string, PortType.PortType<any>>>,
  values: Readonly<Record<string, unknown>>,
  cacheDir: string
): PackedInputs => {
  const layout: Record<string, Carried | { list: Array<Carried> }> = {}
  const parts: Record<string, { type: PortType.PortType<any>; value: unknown }> = {}
  const carry = (part: string, type: PortType.PortType<any>, value: unknown): Carried => {
    if (isFolder(type)) {
      const folder = (value as DirectoryRef).path
      return entryOfFolder(cacheDir, path.resolve(folder)) ?? { ref: { path: folder } }
    }
    parts[part] = { type, value }
    return { part }
  }
  for (const [port, value] of Object.entries(values)) {
    const type = ports[port]
    if (value === undefined || type === undefined) continue
    layout[port] = type.element
      ? { list: (value as ReadonlyArray<unknown>).map((v, i) => carry(`${port}.${i}`, type.element!, v)) }
      : carry(port, type, value)
  }
  return { layout, parts }
}

/** The port types of an entry's parts, for reading it. */
export const partTypes = (ports: Readonly<Record<string, PortType.PortType<any>>>, layout: InputsLayout): Record<string, PortType.PortType<any>> => {
  const types: Record<string, PortType.PortType<any>> = {}
  for (const [port, carried] of Object.entries(layout)) {
    const type = ports[port]!
    if ("list" in carried) for (const c of carried.list) if ("part" in c) types[c.part] = type.element!
    if ("part" in carried) types[carried.part] = type
  }
  return types
}

/** The folder entries a layout refers to, as (entry, port) pairs to read with a directory port. */
export const folderEntries = (layout: InputsLayout): Array<{ readonly entry: string; readonly port: string }> =>
  Object.values(layout).flatMap((c) => ("list" in c ? c.list : [c])).flatMap((c) => ("entry" in c ? [c] : []))

export const unpackInputs = (layout: InputsLayout, parts: Readonly<Record<string, unknown>>, folders: ReadonlyMap<string, DirectoryRef>): Record<string, unknown> => {
  const value = (c: Carried) => ("ref" in c ? c.ref : "entry" in c ? folders.get(`${c.entry}/${c.port}`) : parts[c.part])
  return Object.fromEntries(Object.entries(layout).map(([port, c]) => [port, "list" in c ? c.list.map(value) : value(c)]))
}
