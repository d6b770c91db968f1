import * as os from "node:os"

/**
 * Temp entries and scratch folders carry their owner (`@<host>~<pid>`) in their name, so the next run
 * can tell the leftovers of a dead process from the work of a live one and remove only the former.
 */
const host = os.hostname().replace(/[^A-Za-z0-9.-]/g, "_")

export const ownerTag = (): string => `@${host}~${process.pid}`

const ownerPattern = /@([A-Za-z0-9._-]+)~(\d+)/

/** The owner named in a temp or scratch name, if any. */
export const ownerOf = (name: string): { readonly host: string; readonly pid: number } | undefined => {
  const m = ownerPattern.exec(name)
  return m ? { host: m[1]!, pid: Number(m[2]) } : undefined
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** True when `name` belongs to a process of this host that no longer runs. Other hosts' names are left alone. */
export const ownedByDeadProcess = (name: string): boolean => {
  const owner = ownerOf(name)
  return owner !== undefined && owner.host === host && owner.pid !== process.pid && !alive(owner.pid)
}
