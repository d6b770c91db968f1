import type { DirectoryRef, PortType } from "@embedflow/core"

/**
 * How a task's inputs travel: most ports are written into a store entry (one part per port, a list
 * port one part per element), but a folder (a model, an index) is passed by its path, which every
 * runner reaches on the shared file system; writing it would move it out of its own cache entry.
 */
export type Carried = { readonly part: string } | { readonly ref: DirectoryRef }
export type InputsLayout = Readonly<Record<string, Carried | { readonly list: ReadonlyArray<Carried> }>>

export interface PackedInputs {
  readonly layout: InputsLayout
  /** The parts to write into the inputs entry, with the port type to write each with. */
  readonly parts: Readonly<Record<string, { readonly type: PortType.PortType<any>; readonly value: unknown }>>
}

const isFolder = (type: PortType.PortType<any>) => type.format.kind === "directory"

export const packInputs = (ports: Readonly<Record<string, PortType.PortType<any>>>, values: Readonly<Record<string, unknown>>): PackedInputs => {
  const layout: Record<string, Carried | { list: Array<Carried> }> = {}
  const parts: Record<string, { type: PortType.PortType<any>; value: unknown }> = {}
  const carry = (part: string, type: PortType.PortType<any>, value: unknown): Carried => {
    if (isFolder(type)) return { ref: { path: (value as DirectoryRef).path } }
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

export const unpackInputs = (layout: InputsLayout, parts: Readonly<Record<string, unknown>>): Record<string, unknown> => {
  const value = (c: Carried) => ("ref" in c ? c.ref : parts[c.part])
  return Object.fromEntries(Object.entries(layout).map(([port, c]) => [port, "list" in c ? c.list.map(value) : value(c)]))
}
