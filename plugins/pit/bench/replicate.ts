/**
 * The small synthetic PIT replication: every method x seed, one line each, then the table.
 *   npx tsx plugins/pit/bench/replicate.ts [--seeds 1,2,3] [--methods pit,mixed] [--json out.json]
 *   npx tsx plugins/pit/bench/replicate.ts --from s1.json,s2.json,s3.json    (the table of saved runs,
 *     e.g. one process per seed on a shared machine)
 */
import * as fs from "node:fs"
import { parseArgs } from "node:util"
import { type Method, mergeSettings, methods, type ReplicationRun, type SettingsOverride, runReplication } from "../src/index.js"

const { values } = parseArgs({
  options: {
    seeds: { type: "string", default: "1,2,3" },
    methods: { type: "string", default: methods.join(",") },
    json: { type: "string" },
    from: { type: "string" },
    settings: { type: "string" }
  }
})
const seeds = values.seeds.split(",").map(Number)
const chosen = values.methods.split(",") as Array<Method>
for (const m of chosen) if (!methods.includes(m)) throw new Error(`--methods: unknown method "${m}" (known: ${methods.join(", ")})`)
// Fields given are merged into the defaults (e.g. '{"train":{"lr":0.005}}' changes only the lr).
const settings = mergeSettings(values.settings ? (JSON.parse(values.settings) as SettingsOverride) : {})
console.log(JSON.stringify(settings))
type SavedRun = Omit<ReplicationRun, "report">
const runs: Array<SavedRun> = values.from ? values.from.split(",").flatMap((f) => JSON.parse(fs.readFileSync(f, "utf8")) as Array<SavedRun>) : []
for (const method of values.from ? [] : chosen) {
  for (const seed of seeds) {
    const r = runReplication(method, seed, settings)
    const { report: _report, ...saved } = r
    runs.push(saved)
    console.log(`${method}\tseed ${seed}\tEM ${r.exactMatch.toFixed(1)}\t${JSON.stringify(Object.fromEntries(Object.entries(r.byRelation).map(([k, v]) => [k, Math.round(v)])))}\ttest docs ppl ${r.testDocs.perplexity.toFixed(2)} recall ${r.testDocs.factRecall.toFixed(0)} %\ttokens ${r.trainTokens} (test docs ${r.testDocTokens})\ttrain ${r.trainSeconds.toFixed(1)} s (cpu ${r.trainCpuSeconds.toFixed(1)} s)\teval ${r.evalSeconds.toFixed(1)} s${r.pretraining ? `\tshared base: ${r.pretraining.tokens} tokens, ${r.pretraining.seconds.toFixed(1)} s (cpu ${r.pretraining.cpuSeconds.toFixed(1)} s)` : ""}`)
  }
}
const mean = (xs: Array<number>) => xs.reduce((a, b) => a + b, 0) / xs.length
const sd = (xs: Array<number>) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1))
console.log("\n| method | test QA EM % (mean ± sd) | per seed | test-doc perplexity | test-doc fact recall % | tokens trained (test docs) | train wall s / run | train CPU s / run |\n|---|---|---|---|---|---|---|---|")
for (const method of chosen) {
  const of = runs.filter((r) => r.method === method).sort((a, b) => a.seed - b.seed)
  if (of.length === 0) continue
  const em = of.map((r) => r.exactMatch)
  const tokens = `${Math.round(mean(of.map((r) => r.trainTokens)))} (${Math.round(mean(of.map((r) => r.testDocTokens)))})`
  console.log(
    `| ${method} | ${mean(em).toFixed(1)} ± ${sd(em).toFixed(1)} | ${em.map((x) => x.toFixed(0)).join(" / ")} | ${mean(of.map((r) => r.testDocs.perplexity)).toFixed(2)} | ${mean(of.map((r) => r.testDocs.factRecall)).toFixed(0)} | ${tokens} | ${mean(of.map((r) => r.trainSeconds)).toFixed(0)} | ${mean(of.map((r) => r.trainCpuSeconds)).toFixed(0)} |`
  )
}
if (values.json) fs.writeFileSync(values.json, JSON.stringify(runs, null, 1))
