/**
 * Loading a 1 GB JSONL (FlagEmbedding rows: query, pos list, neg list) through `data/load-triples`'
 * loader, against the floor of any JSONL reader in Node: readline + JSON.parse and nothing else.
 * Each measurement runs in its own process so that peak RSS is its own.
 *
 *   node --conditions=source --import tsx bench/src/load-jsonl.bench.ts [--size-mb 1024] [--file /tmp/x.jsonl]
 *
 * The file is generated once (deterministic) in /tmp and kept for re-runs.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as readline from "node:readline"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { LoadData } from "@embedflow/data"

const { values } = parseArgs({
  options: {
    "size-mb": { type: "string", default: "1024" },
    file: { type: "string", default: "/tmp/embedflow-bench-1gb.jsonl" },
    child: { type: "string" },
    sample: { type: "string", default: "10000" }
  }
})
const file = values.file!

const words = "the of and a to in is was he for it with as his on be at by i had not are but from or have an they which one you were her all she there would their we him been has when who will more no if out so said what up its about into than them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three".split(" ")

/** Deterministic pseudo-random text (a 32-bit LCG), so every run reads the same bytes. */
const generate = (target: string, bytes: number) => {
  let seed = 12345
  const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0)
  const sentence = (n: number) => Array.from({ length: n }, () => words[next() % words.length]).join(" ")
  const fd = fs.openSync(`${target}.tmp`, "w")
  let written = 0
  let rows = 0
  let chunk: Array<string> = []
  while (written < bytes) {
    const row = JSON.stringify({ query: sentence(8 + (next() % 8)), pos: [sentence(20 + (next() % 20))], neg: [sentence(20 + (next() % 20)), sentence(20 + (next() % 20)), sentence(15)] }) + "\n"
    chunk.push(row)
    written += Buffer.byteLength(row)
    rows++
    if (chunk.length === 10000) {
      fs.writeSync(fd, chunk.join(""))
      chunk = []
    }
  }
  fs.writeSync(fd, chunk.join(""))
  fs.closeSync(fd)
  fs.renameSync(`${target}.tmp`, target)
  return rows
}

const child = async (mode: string) => {
  const start = performance.now()
  let rows = 0
  let records = 0
  if (mode === "floor") {
    const rl = readline.createInterface({ input: fs.createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 20 }), crlfDelay: Infinity })
    for await (const line of rl) {
      if (line === "") continue
      JSON.parse(line)
      rows++
    }
  } else {
    const it = LoadData.loadRows(file, { shape: "triples", sample: Number(values.sample), seed: 1 })
    let step = await it.next()
    while (!step.done) step = await it.next()
    rows = step.value.report.rows
    records = step.value.records.length
  }
  const seconds = (performance.now() - start) / 1000
  process.stdout.write(JSON.stringify({ mode, rows, records, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 }))
}

if (values.child) await child(values.child)
else {
  const bytes = Number(values["size-mb"]) * 1024 * 1024
  if (!fs.existsSync(file) || fs.statSync(file).size < bytes) {
    const t = performance.now()
    const rows = generate(file, bytes)
    console.log(`generated ${file}: ${(fs.statSync(file).size / 2 ** 20).toFixed(0)} MiB, ${rows} rows in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  }
  const self = fileURLToPath(import.meta.url)
  const measure = (mode: string) =>
    JSON.parse(execFileSync(process.execPath, [...process.execArgv, self, "--child", mode, "--file", file, "--sample", values.sample!], { encoding: "utf8", maxBuffer: 1 << 20 }))
  const floor = measure("floor")
  const ours = measure("load")
  const mib = fs.statSync(file).size / 2 ** 20
  const line = (r: { mode: string; rows: number; seconds: number; peakRssMb: number }) =>
    `${r.mode.padEnd(6)} ${r.rows} rows in ${r.seconds.toFixed(1)} s = ${Math.round(r.rows / r.seconds)} rows/s, ${(mib / r.seconds).toFixed(0)} MiB/s, peak RSS ${r.peakRssMb.toFixed(0)} MiB`
  console.log(`file: ${mib.toFixed(0)} MiB JSONL (query, pos[1], neg[3])`)
  console.log(line(floor) + "   (readline + JSON.parse, nothing kept)")
  console.log(line(ours) + `   (data/load-triples loader, sample ${values.sample} rows -> ${ours.records} triples)`)
  console.log(`ratio: loader / floor time ${(ours.seconds / floor.seconds).toFixed(2)}x, peak RSS ${(ours.peakRssMb / floor.peakRssMb).toFixed(2)}x`)
}
