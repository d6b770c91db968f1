/**
 * Ask the LLM-R pipeline a question: retrieves k demonstrations from the pool of a finished
 * `graph.yaml` run with its trained retriever (or BM25 / the base encoder, for comparison), shows
 * them, the prompt, and the LLM's answer (the label whose verbalizer it finds most likely).
 *
 *   node --conditions=source --import tsx examples/icl-retrieval/src/app.ts "Who invented the telephone ?"
 *   ... app.ts --method bm25 --k 4 --run .embedflow/runs/icl-retrieval-trec/<run-id> "question"
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { Bm25 } from "@embedflow/bm25"
import { KlDistiller, RetrieverFolder } from "@embedflow/kl-distiller"
import type { Ports } from "@embedflow/core"
import { EmbeddingCache, encoderConfig, HeadFolder, makeCausalLM, makeEncoder, PromptTemplate } from "@embedflow/models"
import { Effect } from "effect"

const here = path.dirname(new URL(import.meta.url).pathname)
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    run: { type: "string" },
    store: { type: "string", default: process.env.EMBEDFLOW_STORE ?? ".embedflow" },
    method: { type: "string", default: "llm-r" },
    k: { type: "string", default: "4" },
    lm: { type: "string", default: path.resolve(here, "../../../models/tiny/tiny-gpt2") },
    encoder: { type: "string", default: path.resolve(here, "../../../models/tiny/tiny-bert") }
  }
})

const die = (message: string): never => {
  console.error(message)
  process.exit(1)
}

const question = positionals.join(" ").trim()
if (question === "") die('usage: app.ts [--run DIR] [--method llm-r|bm25|base] [--k 4] "your question"')
const k = Number(values.k)
if (!Number.isInteger(k) || k < 0) die(`--k must be a whole number >= 0, got ${values.k}`)
if (!["llm-r", "bm25", "base"].includes(values.method!)) die(`--method must be llm-r, bm25 or base, got ${values.method}`)

/** The run folder: --run, or the newest run of the graph in the store. */
const runDir = (() => {
  if (values.run) return path.resolve(values.run)
  const runs = path.resolve(values.store!, "runs", "icl-retrieval-trec")
  const all = fs.existsSync(runs) ? fs.readdirSync(runs).filter((d) => fs.existsSync(path.join(runs, d, "outputs", "retriever"))) : []
  if (all.length === 0) return die(`no finished run in ${runs}; run the graph first (examples/icl-retrieval/README.md)`)
  return path.join(runs, all.sort().at(-1)!)
})()

type LabeledExample = Ports.LabeledExample

const pool: Array<LabeledExample> = fs
  .readFileSync(path.join(runDir, "outputs", "pool", "examples.jsonl"), "utf8")
  .split("\n")
  .filter((l) => l !== "")
  .map((l) => JSON.parse(l) as LabeledExample)
const labels = [...new Set(pool.map((e) => e.label))].sort()
const template = PromptTemplate.defaultTemplate

const program = Effect.gen(function* () {
  let demos: Array<LabeledExample> = []
  if (k > 0 && values.method === "bm25") {
    const index = Bm25.build(pool)
    demos = index.search(question, k).map((h) => pool[h.index]!)
  } else if (k > 0) {
    const trained = values.method === "llm-r" ? yield* Effect.promise(() => RetrieverFolder.read(path.join(runDir, "outputs", "retriever", "model"))) : undefined
    const backbone = trained?.config.backbone ?? { model: path.resolve(values.encoder!), pooling: "mean" as const, normalize: true, maxLength: 128 }
    const encoder = yield* makeEncoder(encoderConfig(HeadFolder.encoderConfig(backbone)))
    const demoTexts = pool.map((d) => KlDistiller.demonstrationText({ text: d.text, output: d.label }))
    const cache = yield* EmbeddingCache.build(encoder, [question, ...demoTexts], { batchSize: 64 })
    const dim = trained ? trained.head.outputDim : cache.dim
    const hits = KlDistiller.topK(KlDistiller.encode(trained?.head, cache, [question]), KlDistiller.encode(trained?.head, cache, demoTexts), dim, k)
    demos = hits[0]!.map((h) => pool[h.index]!)
  }
  const shown = [...demos].reverse().map((d) => ({ text: d.text, output: d.label }))
  const lm = yield* makeCausalLM(path.resolve(values.lm!))
  const pairs = labels.map((label) => PromptTemplate.render(template, shown, { text: question }, label))
  const ll = yield* lm.logLikelihood(pairs)
  const scores = ll.map((r) => r.total / Math.max(1, r.tokens))
  const best = scores.indexOf(Math.max(...scores))

  console.log(`run: ${runDir}\nmethod: ${values.method}, k = ${k}, pool: ${pool.length} examples\n`)
  console.log("demonstrations (best first):")
  demos.forEach((d, i) => console.log(`  ${i + 1}. [${d.label}] ${d.text}`))
  console.log(`\nprompt:\n${pairs[0]!.prompt.replace(/^/gm, "  | ")}\n`)
  console.log("label scores (mean log-probability per token):")
  labels.forEach((l, i) => console.log(`  ${i === best ? "*" : " "} ${l.padEnd(14)} ${scores[i]!.toFixed(4)}`))
  console.log(`\nanswer: ${labels[best]}`)
})

Effect.runPromise(Effect.scoped(program)).catch((e) => die(e instanceof Error ? e.message : String(e)))
