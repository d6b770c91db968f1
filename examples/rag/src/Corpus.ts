import { readdirSync, readFileSync, statSync } from "node:fs"
import { extname, join, relative, sep } from "node:path"
import { Effect } from "effect"
import { RagError } from "./RagError.js"

export interface Document {
  /** Path relative to the ingested folder, with "/" separators. */
  readonly file: string
  readonly text: string
}

export const DOCUMENT_EXTENSIONS: ReadonlyArray<string> = [".txt", ".md", ".markdown"]

/**
 * Reads every .txt/.md/.markdown file under `folder` (recursively, hidden entries skipped), sorted
 * by path. Fails when the folder is missing or holds no non-empty document.
 */
export const readCorpus = (folder: string): Effect.Effect<Array<Document>, RagError> =>
  Effect.try({
    try: () => {
      const stat = statSync(folder, { throwIfNoEntry: false })
      if (!stat?.isDirectory()) throw new RagError({ reason: "BadInput", message: `corpus folder ${folder} does not exist or is not a folder` })
      const files: Array<string> = []
      const walk = (dir: string) => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          if (entry.name.startsWith(".")) continue
          const path = join(dir, entry.name)
          if (entry.isDirectory()) walk(path)
          else if (entry.isFile() && DOCUMENT_EXTENSIONS.includes(extname(entry.name).toLowerCase())) files.push(path)
        }
      }
      walk(folder)
      const docs = files
        .map((path) => ({ file: relative(folder, path).split(sep).join("/"), text: readFileSync(path, "utf8") }))
        .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
      const nonEmpty = docs.filter((d) => d.text.trim() !== "")
      if (nonEmpty.length === 0) {
        throw new RagError({
          reason: "EmptyCorpus",
          message:
            docs.length === 0
              ? `corpus folder ${folder} has no ${DOCUMENT_EXTENSIONS.join("/")} files; nothing to ingest`
              : `corpus folder ${folder} has ${docs.length} document(s) but all are empty; nothing to ingest`
        })
      }
      return nonEmpty
    },
    catch: (e) => (e instanceof RagError ? e : new RagError({ reason: "BadInput", message: `cannot read corpus folder ${folder}: ${(e as Error).message}`, cause: e }))
  })
