import { createHash } from "node:crypto"
import { createReadStream } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { writeFileAtomic } from "./atomicFs.js"

/** What a node read from disk, as it enters its cache key. */
export interface ContentDigest {
  readonly path: string
  readonly kind: "file" | "folder" | "absent"
  /** sha256 of the file, or of the folder's sorted (relative path, file sha256) list; "" when absent. */
  readonly sha256: string
  readonly bytes: number
  readonly files: number
}

export const sha256File = (file: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const hash = createHash("sha256")
    createReadStream(file)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")))
  })

interface MemoRecord {
  readonly path: string
  readonly size: number
  readonly mtimeMs: number
  readonly ctimeMs: number
  readonly ino: number
  readonly sha256: string
}

/**
 * File hashing memoised by (path, size, mtime, ctime, inode): in memory for this process and in
 * `memoDir` for later ones, so a 300 MB model folder is read once, not at every run. Any change to a
 * file (in place or replaced) changes its stat, so the memo never serves a stale hash.
 */
export class ContentHasher {
  private readonly memory = new Map<string, MemoRecord>()
  constructor(private readonly memoDir: string) {}

  private memoFile(abs: string) {
    return path.join(this.memoDir, `${createHash("sha256").update(abs).digest("hex")}.json`)
  }

  // Plain (not bigint) stats: Bun and Deno fill these the same way Node does.
  async file(abs: string, stat?: import("node:fs").Stats): Promise<{ sha256: string; size: number }> {
    const s = stat ?? (await fs.stat(abs))
    const same = (r: MemoRecord | undefined): r is MemoRecord =>
      r !== undefined && r.path === abs && r.size === s.size && r.mtimeMs === s.mtimeMs && r.ctimeMs === s.ctimeMs && r.ino === s.ino
    const inMemory = this.memory.get(abs)
    if (same(inMemory)) return { sha256: inMemory.sha256, size: inMemory.size }
    const memoFile = this.memoFile(abs)
    const onDisk = await fs
      .readFile(memoFile, "utf8")
      .then((t) => JSON.parse(t) as MemoRecord)
      .catch(() => undefined)
    if (same(onDisk)) {
      this.memory.set(abs, onDisk)
      return { sha256: onDisk.sha256, size: onDisk.size }
    }
    const sha256 = await sha256File(abs)
    const record: MemoRecord = { path: abs, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino, sha256 }
    this.memory.set(abs, record)
    // The memo is an optimisation: failing to write it must not fail the run.
    await writeFileAtomic(memoFile, JSON.stringify(record)).catch(() => undefined)
    return { sha256, size: record.size }
  }

  /** Digest of a file or a whole folder (recursively, following symlinks); `absent` when nothing is there. */
  async path(abs: string): Promise<ContentDigest> {
    const stat = await fs.stat(abs).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT" || e.code === "ENOTDIR") return undefined
      throw e
    })
    if (!stat) return { path: abs, kind: "absent", sha256: "", bytes: 0, files: 0 }
    if (!stat.isDirectory()) {
      const { sha256, size } = await this.file(abs, stat)
      return { path: abs, kind: "file", sha256, bytes: size, files: 1 }
    }
    const listing = await listFiles(abs)
    const hash = createHash("sha256")
    let bytes = 0
    for (const rel of listing) {
      const { sha256, size } = await this.file(path.join(abs, rel))
      bytes += size
      hash.update(`${rel}\0${size}\0${sha256}\n`)
    }
    return { path: abs, kind: "folder", sha256: hash.digest("hex"), bytes, files: listing.length }
  }
}

/** Relative paths of every file under `root`, sorted; symlinked folders are followed once (no loops). */
export const listFiles = async (root: string): Promise<Array<string>> => {
  const out: Array<string> = []
  const seen = new Set<string>()
  const walk = async (dir: string, rel: string) => {
    const real = await fs.realpath(dir)
    if (seen.has(real)) return
    seen.add(real)
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const abs = path.join(dir, entry.name)
      const relPath = rel === "" ? entry.name : `${rel}/${entry.name}`
      const isDir = entry.isDirectory() || (entry.isSymbolicLink() && (await fs.stat(abs).then((s) => s.isDirectory(), () => false)))
      if (isDir) await walk(abs, relPath)
      else out.push(relPath)
    }
  }
  await walk(root, "")
  return out.sort()
}
