/**
 * examples/rag ingest of one large Markdown file with many headings (issue 13: a 50 MB file with
 * 236k headings took 71.5 s, because each chunk's heading was found by scanning every heading).
 * Generates the file (seeded, common English words so GloVe knows them), then times chunkSpans
 * (the chunking alone: the baseline), chunkDocument (chunking + heading lookup; the ratio to the
 * baseline is the lookup's cost) and the full ingest (read, chunk, embed with GloVe, faiss Flat, save).
 *
 *   node --conditions=source --import tsx bench/src/rag-headings.bench.ts [megabytes=50] [headings=236000]
 * Needs models/glove-6b-100d (tools/setup.sh builds it).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { chunkDocument, chunkSpans, defaultChunkOptions, ingest } from "@embedflow/example-rag"
import { makeModelHub, ModelHub } from "@embedflow/models"
import { Effect } from "effect"

const repo = resolve(import.meta.dirname, "../..")
const megabytes = Number(process.argv[2] ?? 50)
const headings = Number(process.argv[3] ?? 236_000)
const glove = join(repo, "models/glove-6b-100d")

const words = ("the of and to in is was for on that with as by at from it an be are this which or have not had but were " +
  "one all their there been has more when will would who also into only its other than about some time after first new " +
  "two could these may then over many most such where between under both during each through same system model data run").split(" ")

/** `# Title` sections of seeded random words, about `bytes` in all. */
export const markdown = (bytes: number, sections: number, seed = 1): string => {
  let s = seed >>> 0
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0)
  const perSection = Math.max(1, Math.floor(bytes / sections))
  const parts: Array<string> = []
  for (let i = 0; i < sections; i++) {
    let body = `${"#".repeat(1 + (next() % 3))} Section ${i + 1}\n\n`
    while (body.length < perSection - 1) body += words[next() % words.length] + (next() % 12 === 0 ? ".\n" : " ")
    parts.push(body + "\n")
  }
  return parts.join("")
}

const tmp = mkdtempSync(join(tmpdir(), "embedflow-rag-headings-"))
const corpus = join(tmp, "corpus")
mkdirSync(corpus)
const text = markdown(megabytes * 1024 * 1024, headings)
writeFileSync(join(corpus, "big.md"), text)
console.log(`big.md: ${(Buffer.byteLength(text) / 1024 / 1024).toFixed(1)} MB, ${headings} headings`)

let t = performance.now()
const spans = chunkSpans(text, defaultChunkOptions)
const spansMs = performance.now() - t
t = performance.now()
const chunks = chunkDocument("big.md", text, defaultChunkOptions)
const chunkMs = performance.now() - t
console.log(`chunkSpans (baseline): ${spans.length} chunks in ${(spansMs / 1000).toFixed(2)} s`)
console.log(`chunkDocument (+ heading lookup): ${chunks.length} chunks in ${(chunkMs / 1000).toFixed(2)} s, ${(chunkMs / spansMs).toFixed(2)}x the baseline`)

const program = Effect.gen(function* () {
  const hub = yield* makeModelHub()
  const t0 = performance.now()
  const r = yield* ingest({ folder: corpus, indexDir: join(tmp, "index"), encoder: { model: glove } }).pipe(Effect.provideService(ModelHub, hub))
  const total = (performance.now() - t0) / 1000
  console.log(
    `ingest end to end: ${r.chunks} chunks in ${total.toFixed(1)} s (model load ${r.loadSeconds.toFixed(1)} s, embedding ${r.embedSeconds.toFixed(1)} s, ` +
      `everything else ${(total - r.loadSeconds - r.embedSeconds).toFixed(1)} s)`
  )
})

await Effect.runPromise(Effect.scoped(program)).finally(() => rmSync(tmp, { recursive: true, force: true }))
