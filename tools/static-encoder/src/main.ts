#!/usr/bin/env node
/**
 * CLI: node --conditions=source --import tsx tools/static-encoder/src/main.ts [outDir] [--max-words=N] [--force]
 * Builds the GloVe 6B 100-d static encoder folder (default <repo>/models/glove-6b-100d).
 */
import { resolve } from "node:path"
import { buildStaticEncoder, defaultModelDir } from "./StaticEncoder.js"

const args = process.argv.slice(2)
const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const unknown = args.filter((a) => a.startsWith("--") && !/^--(force|max-words=\d+)$/.test(a))
if (unknown.length > 0) {
  console.error(`unknown option(s) ${unknown.join(" ")}; usage: main.ts [outDir] [--max-words=N] [--force]`)
  process.exit(2)
}
const positional = args.filter((a) => !a.startsWith("--"))
const outDir = positional[0] !== undefined ? resolve(positional[0]) : defaultModelDir()
const maxWords = flag("max-words")
try {
  const r = buildStaticEncoder(outDir, { force: args.includes("--force"), ...(maxWords !== undefined ? { maxWords: Number(maxWords) } : {}) })
  const mb = (r.bytes / 2 ** 20).toFixed(1)
  console.log(`${r.skipped ? "up to date" : "built     "}  ${r.dir}  (${r.words} words, ${mb} MiB, ${r.seconds.toFixed(2)} s)`)
} catch (e) {
  console.error(e instanceof Error ? e.message : e)
  process.exit(1)
}
