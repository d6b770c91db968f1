import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Exit } from "effect"
import { afterAll, describe, expect, inject, it } from "vitest"
import { readCorpus, type RagError } from "../src/index.js"
import { binaryReason } from "../src/internal/binary.js"

const tmp = mkdtempSync(join(tmpdir(), "embedflow-rag-corpus-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

/** Seeded bytes (LCG), so a failure reproduces. */
const randomBytes = (n: number, seed: number): Buffer => {
  const out = Buffer.alloc(n)
  let s = seed >>> 0
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    out[i] = s >>> 24
  }
  return out
}

const folder = (name: string, files: Record<string, string | Uint8Array>): string => {
  const dir = join(tmp, name)
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, rel, ".."), { recursive: true })
    writeFileSync(join(dir, rel), content)
  }
  mkdirSync(dir, { recursive: true })
  return dir
}

const read = (dir: string) => Effect.runPromise(readCorpus(dir))
const failure = async (dir: string): Promise<RagError> => {
  const exit = await Effect.runPromiseExit(readCorpus(dir))
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  return (exit.cause.reasons[0] as { error: RagError }).error
}

describe("binary files are skipped with the reason", () => {
  it("random bytes saved as .txt and an ONNX model named .md are listed, not indexed", async () => {
    const dir = folder("binary", { "notes.md": "# Notes\n\nreal text about caching.\n", "noise.txt": randomBytes(4096, 7) })
    copyFileSync(join(inject("tinyModels"), "tiny-bert/onnx/model.onnx"), join(dir, "model.md"))
    const corpus = await read(dir)
    expect(corpus.documents.map((d) => d.file)).toEqual(["notes.md"])
    expect(corpus.skipped.map((s) => s.file)).toEqual(["model.md", "noise.txt"])
    for (const s of corpus.skipped) expect(s.reason).toMatch(/^binary: (NUL byte at offset \d+|[\d.]+% of bytes are not valid UTF-8)/)
  })

  it("random bytes without NUL are caught by the invalid UTF-8 ratio; UTF-8 text with a stray bad byte is kept", () => {
    const noNul = randomBytes(4096, 11).map((b) => (b === 0 ? 1 : b))
    expect(binaryReason(noNul)).toMatch(/^binary: \d+\.\d% of bytes are not valid UTF-8/)
    const text = Buffer.from("Ünïcödé text — with a U+FFFD \ufffd and an emoji 🙂. ".repeat(50))
    expect(binaryReason(text)).toBeUndefined()
    expect(binaryReason(Buffer.concat([text, Buffer.from([0xff])]))).toBeUndefined()
    expect(binaryReason(Buffer.from("ctrl\u0001\u0002\u0003\u0004 text"))).toMatch(/control characters/)
    expect(binaryReason(Buffer.from("a\u0000b"))).toBe("binary: NUL byte at offset 1")
  })

  it("a folder holding only binary and empty files fails, listing each with its reason", async () => {
    const dir = folder("only-binary", { "a.txt": randomBytes(1000, 3), "b.md": " \n" })
    const e = await failure(dir)
    expect(e.reason).toBe("EmptyCorpus")
    expect(e.message).toMatch(/2 document\(s\) but none is usable text/)
    expect(e.message).toMatch(/a\.txt \(binary: /)
    expect(e.message).toMatch(/b\.md \(empty \(whitespace only\)\)/)
  })
})

describe("symlinks", () => {
  it("a symlinked .md inside the root is ingested; one pointing outside is listed, never read", async () => {
    const outside = folder("outside", { "secret.md": "# Secret\n\noutside text\n" })
    const dir = folder("links", { "docs/guide.md": "# Guide\n\nthe guide\n", "shared/faq.md": "# FAQ\n\nquestions\n" })
    symlinkSync(join(dir, "shared/faq.md"), join(dir, "docs/faq-link.md"))
    symlinkSync(join(outside, "secret.md"), join(dir, "docs/secret.md"))
    symlinkSync(join(outside), join(dir, "outside-dir"))
    symlinkSync(join(dir, "shared"), join(dir, "docs/shared-link"))
    const corpus = await read(dir)
    // shared/faq.md is reached three times: its own path, the file link docs/faq-link.md and the folder
    // link docs/shared-link (walked before shared/ in path order). It is kept once, under its own path.
    expect(corpus.documents.map((d) => d.file)).toEqual(["docs/guide.md", "shared/faq.md"])
    expect(corpus.documents.some((d) => d.text.includes("outside text"))).toBe(false)
    const reasons = Object.fromEntries(corpus.skipped.map((s) => [s.file, s.reason]))
    expect(reasons["docs/secret.md"]).toMatch(/^symlink to .*outside[/\\]secret\.md, outside the ingest root .*; not followed$/)
    expect(reasons["outside-dir"]).toMatch(/outside the ingest root/)
    expect(reasons["docs/faq-link.md"]).toBe("same file as shared/faq.md (reached through a symlink)")
    expect(reasons["docs/shared-link/faq.md"]).toBe("same file as shared/faq.md (reached through a symlink)")
  })

  it("a file reachable only through a link inside the root is ingested under the link's path", async () => {
    const dir = folder("link-only", { "store/.hidden/page.md": "# Page\n\ncontent\n" })
    symlinkSync(join(dir, "store/.hidden/page.md"), join(dir, "page.md"))
    const corpus = await read(dir)
    expect(corpus.documents.map((d) => [d.file, d.text])).toEqual([["page.md", "# Page\n\ncontent\n"]])
  })

  it("loops: a link to an enclosing folder, a self-link and a broken link are listed; the walk ends", async () => {
    const dir = folder("loops", { "a/b/note.md": "# Note\n\ntext\n" })
    symlinkSync(join(dir, "a"), join(dir, "a/b/up"))
    symlinkSync(dir, join(dir, "a/root"))
    symlinkSync(join(dir, "self.md"), join(dir, "self.md"))
    symlinkSync(join(dir, "missing.md"), join(dir, "dangling.md"))
    const corpus = await read(dir)
    expect(corpus.documents.map((d) => d.file)).toEqual(["a/b/note.md"])
    const reasons = Object.fromEntries(corpus.skipped.map((s) => [s.file, s.reason]))
    expect(reasons).toEqual({
      "a/b/up": "symlink loop: points to a, a folder containing the link",
      "a/root": "symlink loop: points to ., a folder containing the link",
      "dangling.md": "broken symlink (its target does not exist)",
      "self.md": "symlink loop (the link resolves to itself)"
    })
  })

  it("a link to a sibling folder walked before is listed as already ingested", async () => {
    const dir = folder("sibling", { "a/x.md": "# X\n\nx text\n" })
    symlinkSync(join(dir, "a"), join(dir, "b"))
    const corpus = await read(dir)
    expect(corpus.documents.map((d) => d.file)).toEqual(["a/x.md"])
    expect(corpus.skipped).toEqual([{ file: "b", reason: "symlink to folder a, already ingested as a" }])
  })
})
