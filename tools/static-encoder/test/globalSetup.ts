import { buildStaticEncoder, defaultModelDir } from "../src/index.js"

export default function setup(): void {
  const r = buildStaticEncoder(defaultModelDir())
  if (!r.skipped) console.log(`static-encoder: built ${r.dir} (${r.words} words) in ${r.seconds.toFixed(1)} s`)
}
