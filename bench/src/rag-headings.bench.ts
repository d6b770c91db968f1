/**
 * examples/rag ingest of one large Markdown file with many headings (issue 13: a 50 MB file with
 * 236k headings took 71.5 s, because each chunk's heading was found by scanning every heading).
 * Generates the file (seeded, common English words so GloVe knows them), then times chunkSpans
 * (the chunking alone: the baseline), chunkDocument (chunking + heading lookup by binary search; the
 * ratio to the baseline is the lookup's cost), with --scan the old chunkDocument (every heading
 * scanned per chunk), and the full ingest (read, chunk, embed with GloVe, faiss Flat, save).
 * Wall and CPU seconds are both printed: on a shared machine the CPU time is the steadier figure.
 *
 *   node --conditions=source --import tsx bench/src/rag-headings.bench.ts [megabytes=50] [headings=236000] [--scan]
 * Needs models/glove-6b-100d (tools/setup.sh builds it). --scan adds minutes (quadratic).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { chunkDocument, chunkSpans, defaultChunkOptions, ingest } from "@embedflow/example-rag"
import { makeModelHub, ModelHub } from "@embedflow/models"
import { Effect } from "effect"

const repo = resolve(import.meta.dirname, "../..")
const args = process.argv.slice(2).filter((a) => !a.startsWith("--"))
const withScan = process.argv.includes("--scan")
const megabytes = Number(args[0] ?? 50)
const headings = Number(args[1] ?? 236_000)
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

/** Runs `f`, printing its wall and CPU seconds; returns the result and the wall seconds. */
const timed = <A>(label: string, f: () => A): { value: A; seconds: number } => {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const value = f()
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  console.log(`${label}: ${seconds.toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU`)
  return { value, seconds }
}

const spans = timed("chunkSpans (chunking alone, the baseline)", () => chunkSpans(text, defaultChunkOptions))
const chunks = timed("chunkDocument (chunking + heading lookup by binary search)", () => chunkDocument("big.md", text, defaultChunkOptions))
console.log(`${chunks.value.length} chunks; chunkDocument / chunkSpans = ${(chunks.seconds / spans.seconds).toFixed(2)}x`)
if (withScan) {
  // chunkDocument as it was before issue 13 (main at d65710c), verbatim but for names: every heading
  // scanned for every chunk.
  const oldChunkDocument = (file: string, text: string) => {
    const headings = [...text.matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)].map((m) => ({ at: m.index!, title: m[1]! }))
    return chunkSpans(text, defaultChunkOptions).map(([start, end]) => {
      let heading: string | undefined
      for (const h of headings) if (h.at <= start) heading = h.title
      return { id: `${file}#${start}-${end}`, file, start, end, text: text.slice(start, end), ...(heading === undefined ? {} : { heading }) }
    })
  }
  const old = timed("old chunkDocument (scan every heading per chunk)", () => oldChunkDocument("big.md", text))
  const same = old.value.every((c, i) => c.heading === chunks.value[i]!.heading)
  console.log(`old chunkDocument / new = ${(old.seconds / chunks.seconds).toFixed(1)}x; same headings: ${same}`)
}

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
