import { appendFileSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Context, Data, Effect, Layer } from "effect"
import { exists, isTempName, tempSibling, writeFileAtomic } from "./internal/atomicFs.js"
import { type ContentDigest, ContentHasher, listFiles, sha256File } from "./internal/contentHash.js"
import { ownedByDeadProcess, ownerTag } from "./internal/owner.js"
import type { PortType } from "./PortType.js"

/** A file-system operation of the store failed (permissions, a full disk, a vanished folder). */
export class ArtifactError extends Data.TaggedError("ArtifactError")<{
  readonly key: string
  readonly message: string
  readonly cause?: unknown
}> {}

/** A cached entry that does not match its manifest: it is quarantined and recomputed, never served. */
export class ArtifactCorruptError extends Data.TaggedError("ArtifactCorruptError")<{
  readonly key: string
  readonly file: string
  readonly reason: string
}> {
  override get message(): string {
    return `cached entry ${this.key} corrupt (file ${this.file}: ${this.reason})`
  }
}

export interface FileRecord {
  readonly size: number
  readonly sha256: string
}

export interface Manifest {
  readonly key: string
  readonly stage: string
  readonly version: string
  readonly nodeId: string
  readonly params: unknown
  readonly inputs: Readonly<Record<string, string>>
  /** The files and folders the node read, with their content hashes (part of the key). */
  readonly reads?: ReadonlyArray<ContentDigest> | undefined
  readonly ports: Readonly<Record<string, { readonly type: string; readonly format: string }>>
  readonly createdAt: string
  readonly seconds: number
  /** Every file of the entry (relative path → size and sha256), checked when the entry is read. */
  readonly files?: Readonly<Record<string, FileRecord>> | undefined
}

export interface GcReport {
  readonly bytesBefore: number
  readonly bytesAfter: number
  readonly runsKept: number
  readonly runsRemoved: number
  readonly entriesKept: number
  readonly entriesRemoved: number
  readonly leftoversRemoved: number
}

/** Where one run's log, graph, plan and output links live. */
export interface RunFolder {
  readonly dir: string
  /** Appends one line to `run.jsonl` synchronously, so the log is complete up to a kill. */
  readonly appendLog: (line: string) => void
}

/**
 * A content-addressed store of node outputs. An entry is a folder named by its key, written under an
 * owner-tagged temp name and renamed into place once every port and the manifest are written: a run
 * killed midway leaves a whole entry or a temp folder that the next run removes. Reading checks every
 * file against the manifest (size always, sha256 on first use per process); concurrent writers of one
 * key are safe (the first rename wins, the others discard their copy).
 */
export class ArtifactStore extends Context.Service<
  ArtifactStore,
  {
    readonly root: string
    readonly entryDir: (key: string) => string
    /** Whether an entry folder exists (it may still turn out corrupt when read). */
    readonly has: (key: string) => Effect.Effect<boolean>
    readonly read: (
      key: string,
      ports: Readonly<Record<string, PortType<any>>>
    ) => Effect.Effect<Record<string, unknown>, ArtifactError | ArtifactCorruptError>
    /** Stores an entry; `replace` swaps out an existing one (`--force`), else an existing entry wins. */
    readonly write: (
      manifest: Manifest,
      ports: Readonly<Record<string, PortType<any>>>,
      values: Readonly<Record<string, unknown>>,
      options?: { readonly replace?: boolean }
    ) => Effect.Effect<void, ArtifactError>
    /** Deletes an entry (gone at once for readers; a crash midway leaves a temp folder the next run removes). */
    readonly remove: (key: string) => Effect.Effect<void, ArtifactError>
    /** Moves an entry to `<store>/quarantine/`, returning where it went (undefined if already gone). */
    readonly quarantine: (key: string) => Effect.Effect<string | undefined, ArtifactError>
    /** Content digest of a file or folder a node reads, memoised by (path, size, mtime, inode). */
    readonly hashPath: (absolutePath: string) => Effect.Effect<ContentDigest, ArtifactError>
    /** Removes temp entries, temp files and scratch folders of dead processes; returns how many. */
    readonly removeLeftovers: () => Effect.Effect<number, ArtifactError>
    readonly openRun: (graphName: string, runId: string) => Effect.Effect<RunFolder, ArtifactError>
    readonly writeRunFile: (run: RunFolder, name: string, content: string) => Effect.Effect<void, ArtifactError>
    /** `runs/.../outputs/<nodeId>` → the node's entry, for people browsing a run. */
    readonly linkOutput: (run: RunFolder, nodeId: string, key: string) => Effect.Effect<void, ArtifactError>
    /** An empty folder owned by this process for one node attempt. */
    readonly makeScratch: (key: string) => Effect.Effect<string, ArtifactError>
    readonly removeScratch: (dir: string) => Effect.Effect<void, ArtifactError>
    /** Removes entries that no kept run references (all runs, or the newest `keepRuns` of each graph), and leftovers. */
    readonly gc: (options?: { readonly keepRuns?: number | undefined }) => Effect.Effect<GcReport, ArtifactError>
  }
>()("@embedflow/core/ArtifactStore") {}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e))

const attempt = <A>(key: string, what: string, f: () => Promise<A>) =>
  Effect.tryPromise({ try: f, catch: (e) => new ArtifactError({ key, message: `${what}: ${errorText(e)}`, cause: e }) })

/** A graph name as a single, harmless path segment (`../../x` must not leave `<store>/runs`). */
export const safeSegment = (name: string): string => {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^\.+/, "_")
  return cleaned === "" ? "_" : cleaned.slice(0, 120)
}

const duSize = async (p: string): Promise<number> => {
  const stat = await fs.lstat(p).catch(() => undefined)
  if (!stat) return 0
  if (!stat.isDirectory()) return stat.size
  let total = 0
  for (const name of await fs.readdir(p).catch(() => [] as Array<string>)) total += await duSize(path.join(p, name))
  return total
}

const readDirNames = (dir: string) => fs.readdir(dir).catch(() => [] as Array<string>)

export const makeFileSystem = (root: string) => {
  root = path.resolve(root)
  const cacheDir = path.join(root, "cache")
  const entryDir = (key: string) => path.join(cacheDir, key.slice(0, 2), key)
  const hasher = new ContentHasher(path.join(root, "hashes"))
  /** Entries whose files this store (one per run, so per process) hashed: later reads check sizes only. */
  const verifiedEntries = new Set<string>()

  const verify = async (key: string): Promise<ArtifactCorruptError | undefined> => {
    const dir = entryDir(key)
    const corrupt = (file: string, reason: string) => new ArtifactCorruptError({ key, file, reason })
    let manifest: Manifest
    try {
      manifest = JSON.parse(await fs.readFile(path.join(dir, "manifest.json"), "utf8")) as Manifest
    } catch (e) {
      return corrupt("manifest.json", (e as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : `unreadable: ${errorText(e)}`)
    }
    if (manifest.key !== key) return corrupt("manifest.json", `names key ${String(manifest.key)}`)
    if (!manifest.files) return corrupt("manifest.json", "no file list (written by an older embedflow)")
    const onDisk = new Set((await listFiles(dir)).filter((f) => f !== "manifest.json"))
    for (const [file, record] of Object.entries(manifest.files)) {
      if (!onDisk.delete(file)) return corrupt(file, "missing")
      const { size } = await fs.stat(path.join(dir, file))
      if (size !== record.size) return corrupt(file, `${size} bytes, manifest says ${record.size}`)
    }
    const extra = [...onDisk][0]
    if (extra !== undefined) return corrupt(extra, "not in the manifest")
    if (!verifiedEntries.has(dir)) {
      for (const [file, record] of Object.entries(manifest.files)) {
        const sha256 = await sha256File(path.join(dir, file))
        if (sha256 !== record.sha256) return corrupt(file, `sha256 ${sha256.slice(0, 12)}…, manifest says ${record.sha256.slice(0, 12)}…`)
      }
      verifiedEntries.add(dir)
    }
    return undefined
  }

  const fileRecords = async (dir: string): Promise<Record<string, FileRecord>> => {
    const out: Record<string, FileRecord> = {}
    for (const file of await listFiles(dir)) {
      const abs = path.join(dir, file)
      out[file] = { size: (await fs.stat(abs)).size, sha256: await sha256File(abs) }
    }
    return out
  }

  const quarantine = (key: string) =>
    attempt(key, "cannot quarantine entry", async () => {
      const target = path.join(root, "quarantine", `${key}-${new Date().toISOString().replace(/[:.]/g, "-")}-${ownerTag()}`)
      await fs.mkdir(path.dirname(target), { recursive: true })
      try {
        await fs.rename(entryDir(key), target)
        verifiedEntries.delete(entryDir(key))
        return target
      } catch (e) {
        // Another process moved or replaced it first.
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined
        throw e
      }
    })

  const remove = (key: string) =>
    attempt(key, "cannot remove entry", async () => {
      const doomed = tempSibling(entryDir(key))
      try {
        await fs.rename(entryDir(key), doomed)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return
        throw e
      }
      verifiedEntries.delete(entryDir(key))
      await fs.rm(doomed, { recursive: true, force: true })
    })

  const removeLeftovers = () =>
    attempt("", "cannot remove leftovers of dead runs", async () => {
      const doomed: Array<string> = []
      for (const shard of await readDirNames(cacheDir)) {
        for (const name of await readDirNames(path.join(cacheDir, shard))) {
          if (isTempName(name) && ownedByDeadProcess(name)) doomed.push(path.join(cacheDir, shard, name))
        }
      }
      for (const sub of ["scratch", "hashes", "quarantine"]) {
        for (const name of await readDirNames(path.join(root, sub))) {
          const isLeftover = sub === "scratch" ? ownedByDeadProcess(name) : isTempName(name) && ownedByDeadProcess(name)
          if (isLeftover) doomed.push(path.join(root, sub, name))
        }
      }
      for (const p of doomed) await fs.rm(p, { recursive: true, force: true })
      return doomed.length
    })

  const runKeys = async (runDir: string): Promise<Array<string>> => {
    const keys: Array<string> = []
    const plan = await fs.readFile(path.join(runDir, "plan.json"), "utf8").catch(() => undefined)
    if (plan !== undefined) {
      try {
        for (const n of (JSON.parse(plan) as { nodes?: Array<{ key?: unknown }> }).nodes ?? []) if (typeof n.key === "string") keys.push(n.key)
      } catch {
        // A plan cut short by a kill: the log below still names the keys that ran.
      }
    }
    const log = await fs.readFile(path.join(runDir, "run.jsonl"), "utf8").catch(() => "")
    for (const line of log.split("\n")) {
      const m = /"key":"([0-9a-f]{64})"/.exec(line)
      if (m) keys.push(m[1]!)
    }
    return keys
  }

  return ArtifactStore.of({
    root,
    entryDir,
    has: (key) => Effect.promise(() => exists(entryDir(key))),
    read: (key, ports) =>
      Effect.gen(function* () {
        const dir = entryDir(key)
        const corrupt = yield* attempt(key, "cannot check cached entry", () => verify(key))
        if (corrupt) return yield* corrupt
        const out: Record<string, unknown> = {}
        for (const [port, type] of Object.entries(ports)) {
          out[port] = yield* Effect.tryPromise({
            try: () => type.format.read(dir, port),
            catch: (e) => new ArtifactCorruptError({ key, file: port, reason: errorText(e) })
          })
        }
        return out
      }),
    write: (manifest, ports, values, options) =>
      attempt(manifest.key, "cannot store outputs", async () => {
        const final = entryDir(manifest.key)
        await fs.mkdir(path.dirname(final), { recursive: true })
        const tmp = tempSibling(final)
        await fs.mkdir(tmp, { recursive: true })
        try {
          for (const [port, type] of Object.entries(ports)) await type.format.write(tmp, port, values[port])
          const files = await fileRecords(tmp)
          await writeFileAtomic(path.join(tmp, "manifest.json"), JSON.stringify({ ...manifest, files }, null, 2))
          if (options?.replace && (await exists(final))) {
            // Swap the old entry out under an owner-tagged name (cleaned up even if we die here).
            const old = tempSibling(final)
            await fs.rename(final, old).catch(() => undefined)
            await fs.rm(old, { recursive: true, force: true })
          }
          try {
            await fs.rename(tmp, final)
            verifiedEntries.add(final)
          } catch (e) {
            const code = (e as NodeJS.ErrnoException).code
            // Rename-if-absent: another process stored the same key first; equal keys mean equal work.
            if (code !== "ENOTEMPTY" && code !== "EEXIST") throw e
            await fs.rm(tmp, { recursive: true, force: true })
          }
        } catch (e) {
          await fs.rm(tmp, { recursive: true, force: true })
          throw e
        }
      }),
    quarantine,
    remove,
    hashPath: (abs) => attempt("", `cannot hash ${abs}`, () => hasher.path(abs)),
    removeLeftovers,
    openRun: (graphName, runId) =>
      attempt("", "cannot create the run folder", async () => {
        const runs = path.join(root, "runs")
        const dir = path.join(runs, safeSegment(graphName), safeSegment(runId))
        if (path.relative(runs, dir).startsWith("..")) throw new Error(`run folder ${dir} is outside ${runs}`)
        await fs.mkdir(path.join(dir, "outputs"), { recursive: true })
        const logFile = path.join(dir, "run.jsonl")
        return { dir, appendLog: (line: string) => appendFileSync(logFile, line + "\n") }
      }),
    writeRunFile: (run, name, content) => attempt("", `cannot write ${name}`, () => writeFileAtomic(path.join(run.dir, name), content)),
    linkOutput: (run, nodeId, key) =>
      attempt(key, "cannot link outputs", async () => {
        const link = path.join(run.dir, "outputs", safeSegment(nodeId))
        await fs.rm(link, { force: true })
        await fs.symlink(entryDir(key), link, "dir")
      }),
    makeScratch: (key) =>
      attempt(key, "cannot create a scratch folder", async () => {
        const dir = path.join(root, "scratch", `${key.slice(0, 16)}-${ownerTag()}-${Date.now()}`)
        await fs.mkdir(dir, { recursive: true })
        return dir
      }),
    removeScratch: (dir) => attempt("", "cannot remove a scratch folder", () => fs.rm(dir, { recursive: true, force: true })),
    gc: (options) =>
      Effect.gen(function* () {
        const bytesBefore = yield* Effect.promise(() => duSize(root))
        const leftovers = yield* removeLeftovers()
        return yield* attempt("", "cannot collect garbage", async () => {
          const runsRoot = path.join(root, "runs")
          // keepRuns counts per graph: the newest runs of every graph are kept, not the newest of the store.
          const kept: Array<{ dir: string; time: number }> = []
          const removed: Array<{ dir: string; time: number }> = []
          for (const graph of await readDirNames(runsRoot)) {
            const runs: Array<{ dir: string; time: number }> = []
            for (const run of await readDirNames(path.join(runsRoot, graph))) {
              const dir = path.join(runsRoot, graph, run)
              const stat = await fs.stat(path.join(dir, "run.jsonl")).catch(() => fs.stat(dir))
              runs.push({ dir, time: stat.mtimeMs })
            }
            runs.sort((a, b) => b.time - a.time)
            const keep = options?.keepRuns === undefined ? runs.length : options.keepRuns
            kept.push(...runs.slice(0, keep))
            removed.push(...runs.slice(keep))
          }
          const referenced = new Set<string>()
          for (const run of kept) for (const key of await runKeys(run.dir)) referenced.add(key)
          for (const run of removed) await fs.rm(run.dir, { recursive: true, force: true })
          let entriesKept = 0
          let entriesRemoved = 0
          for (const shard of await readDirNames(cacheDir)) {
            for (const name of await readDirNames(path.join(cacheDir, shard))) {
              if (isTempName(name)) continue // a live writer's; dead ones went with the leftovers
              if (referenced.has(name)) entriesKept++
              else {
                await fs.rm(path.join(cacheDir, shard, name), { recursive: true, force: true })
                entriesRemoved++
              }
            }
          }
          await fs.rm(path.join(root, "quarantine"), { recursive: true, force: true })
          // Hash memos of files that are gone (a deleted model folder) are dropped too.
          for (const name of await readDirNames(path.join(root, "hashes"))) {
            const memo = path.join(root, "hashes", name)
            const file = await fs.readFile(memo, "utf8").then((t) => (JSON.parse(t) as { path?: string }).path, () => undefined)
            if (file === undefined || !(await exists(file))) await fs.rm(memo, { force: true })
          }
          return {
            bytesBefore,
            bytesAfter: await duSize(root),
            runsKept: kept.length,
            runsRemoved: removed.length,
            entriesKept,
            entriesRemoved,
            leftoversRemoved: leftovers
          }
        })
      })
  })
}

/** A store in a folder (default `.embedflow` under the working directory). */
export const layerFileSystem = (root: string) => Layer.succeed(ArtifactStore, makeFileSystem(root))
