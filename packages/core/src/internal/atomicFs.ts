import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { ownerTag } from "./owner.js"

/**
 * A unique sibling name for a temp file or folder that is renamed into place once complete. It names
 * its owner (host and pid), so a later run can remove the leftovers of a killed one.
 */
export const tempSibling = (target: string): string =>
  path.join(path.dirname(target), `.${path.basename(target)}.tmp-${ownerTag()}-${randomBytes(4).toString("hex")}`)

/** Whether a file name is a temp sibling written by {@link tempSibling}. */
export const isTempName = (name: string): boolean => /^\..*\.tmp-@.+~\d+-[0-9a-f]{8}$/.test(name)

/**
 * Writes a file so that readers see either the old content or the whole new content, never a
 * partial one (temp sibling, fsync, rename). A failed write leaves the target as it was and no
 * temp file behind.
 */
export const writeFileAtomic = async (target: string, data: string | Uint8Array): Promise<void> => {
  await fs.mkdir(path.dirname(target), { recursive: true })
  const tmp = tempSibling(target)
  try {
    const handle = await fs.open(tmp, "w")
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.rename(tmp, target)
  } catch (e) {
    await fs.rm(tmp, { force: true })
    throw e
  }
}

export const exists = async (p: string): Promise<boolean> => {
  try {
    await fs.access(p)
    return true
  } catch {
    return false
  }
}
