import { readdirSync, readFileSync, realpathSync, statSync } from "node:fs"
import { extname, join, relative, sep } from "node:path"
import { Effect } from "effect"
import { binaryReason } from "./internal/binary.js"
import { RagError } from "./RagError.js"

export interface Document {
  /** Path relative to the ingested folder, with "/" separators. */
  readonly file: string
  readonly text: string
}

/** A candidate document that was not ingested, and why. */
export interface Skipped {
  /** Path relative to the ingested folder, with "/" separators. */
  readonly file: string
  readonly reason: string
}

export interface Corpus {
  /** Non-empty text documents, sorted by path. */
  readonly documents: Array<Document>
  /** Every .txt/.md/.markdown file or symlink that was left out, sorted by path. */
  readonly skipped: Array<Skipped>
}

export const DOCUMENT_EXTENSIONS: ReadonlyArray<string> = [".txt", ".md", ".markdown"]

const isDocumentName = (name: string) => DOCUMENT_EXTENSIONS.includes(extname(name).toLowerCase())
const byPath = <A extends { readonly file: string }>(a: A, b: A) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)

interface Candidate {
  readonly file: string
  readonly path: string
  /** The real path, to ingest a file reached twice (through a symlink) once. */
  readonly real: string
  readonly viaLink: boolean
}

/**
 * Reads every .txt/.md/.markdown file under `folder` (recursively, hidden entries skipped), sorted
 * by path. Symlinks are followed when their target lies inside `folder` (a link to a folder above
 * itself is a loop and is not followed); a file reached twice is read once, under its own path
 * rather than a link's. Links leaving the folder, broken links, binary files (NUL bytes, mostly
 * invalid UTF-8), empty files and non-regular files are listed in `skipped` with the reason. Fails
 * when the folder is missing or no document is left.
 */
export const readCorpus = (folder: string): Effect.Effect<Corpus, RagError> =>
  Effect.try({
    try: () => {
      const stat = statSync(folder, { throwIfNoEntry: false })
      if (!stat?.isDirectory()) throw new RagError({ reason: "BadInput", message: `corpus folder ${folder} does not exist or is not a folder` })
      const root = realpathSync(folder)
      const inside = (real: string) => real === root || real.startsWith(root + sep)
      const rel = (path: string) => relative(folder, path).split(sep).join("/")
      const relTarget = (real: string) => relative(root, real).split(sep).join("/") || "."
      const candidates: Array<Candidate> = []
      const skipped: Array<Skipped> = []
      // Real path of each folder walked -> the path it was walked under.
      const walked = new Map<string, string>()

      const walk = (dir: string, real: string, ancestors: ReadonlySet<string>, viaLink: boolean) => {
        walked.set(real, rel(dir) || ".")
        const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        for (const entry of entries) {
          if (entry.name.startsWith(".")) continue
          const path = join(dir, entry.name)
          if (entry.isSymbolicLink()) {
            followLink(path, entry.name, ancestors)
          } else if (entry.isDirectory()) {
            const r = realpathSync(path)
            walk(path, r, new Set([...ancestors, r]), viaLink)
          } else if (isDocumentName(entry.name)) {
            if (entry.isFile()) candidates.push({ file: rel(path), path, real: realpathSync(path), viaLink })
            else skipped.push({ file: rel(path), reason: "not a regular file" })
          }
        }
      }

      const followLink = (path: string, name: string, ancestors: ReadonlySet<string>) => {
        let target: string
        try {
          target = realpathSync(path)
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code
          skipped.push({ file: rel(path), reason: code === "ELOOP" ? "symlink loop (the link resolves to itself)" : "broken symlink (its target does not exist)" })
          return
        }
        if (!inside(target)) return void skipped.push({ file: rel(path), reason: `symlink to ${target}, outside the ingest root ${root}; not followed` })
        const st = statSync(target)
        if (st.isDirectory()) {
          if (ancestors.has(target)) return void skipped.push({ file: rel(path), reason: `symlink loop: points to ${relTarget(target)}, a folder containing the link` })
          const seen = walked.get(target)
          if (seen !== undefined) return void skipped.push({ file: rel(path), reason: `symlink to folder ${relTarget(target)}, already ingested as ${seen}` })
          walk(path, target, new Set([...ancestors, target]), true)
        } else if (isDocumentName(name)) {
          if (st.isFile()) candidates.push({ file: rel(path), path, real: target, viaLink: true })
          else skipped.push({ file: rel(path), reason: `symlink to ${relTarget(target)}, not a regular file` })
        }
      }

      walk(folder, root, new Set([root]), false)

      // One document per real file: its own path first, then links, each in path order.
      candidates.sort((a, b) => Number(a.viaLink) - Number(b.viaLink) || byPath(a, b))
      const kept = new Map<string, Candidate>()
      const documents: Array<Document> = []
      for (const c of candidates) {
        const first = kept.get(c.real)
        if (first) {
          skipped.push({ file: c.file, reason: `same file as ${first.file} (reached through a symlink)` })
          continue
        }
        kept.set(c.real, c)
        const bytes = readFileSync(c.path)
        const binary = binaryReason(bytes)
        if (binary !== undefined) skipped.push({ file: c.file, reason: binary })
        else {
          const text = new TextDecoder("utf-8").decode(bytes)
          if (text.trim() === "") skipped.push({ file: c.file, reason: "empty (whitespace only)" })
          else documents.push({ file: c.file, text })
        }
      }
      documents.sort(byPath)
      skipped.sort(byPath)
      if (documents.length === 0) {
        const considered = candidates.length
        throw new RagError({
          reason: "EmptyCorpus",
          message:
            considered === 0 && skipped.length === 0
              ? `corpus folder ${folder} has no ${DOCUMENT_EXTENSIONS.join("/")} files; nothing to ingest`
              : `corpus folder ${folder} has ${considered} document(s) but none is usable text (all empty or binary); nothing to ingest. Skipped: ` +
                skipped.map((s) => `${s.file} (${s.reason})`).join("; ")
        })
      }
      return { documents, skipped }
    },
    catch: (e) => (e instanceof RagError ? e : new RagError({ reason: "BadInput", message: `cannot read corpus folder ${folder}: ${(e as Error).message}`, cause: e }))
  })
