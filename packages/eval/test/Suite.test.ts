import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { ArtifactStore, Graph, makeFileSystem, Plugin, Ports, Runner, Stage } from "@embedflow/core"
import { plugin as dataPlugin } from "@embedflow/data"
import { Cause, Effect, Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { MtebResult, plugin, Suite, type Tasks } from "../src/index.js"
import { hashEmbed } from "./hashEmbed.js"

const embed: Tasks.Embed = (texts) =>
  Effect.sync(() => {
    const data = new Float32Array(texts.length * 256)
    texts.forEach((t, i) => data.set(hashEmbed(t, 256), i * 256))
    return { dim: 256, count: texts.length, data }
  })

/** Brute-force top-k by inner product: the test's own search (the CLI uses faiss-index). */
const search: Tasks.Search<never, never> = (corpus, queries, k) =>
  Effect.sync(() => {
    const out: Array<Ports.Candidate> = []
    for (let q = 0; q < queries.count; q++) {
      const scores = Array.from({ length: corpus.count }, (_, d) => {
        let s = 0
        for (let j = 0; j < corpus.dim; j++) s += queries.data[q * corpus.dim + j]! * corpus.data[d * corpus.dim + j]!
        return [d, s] as const
      }).sort((a, b) => b[1] - a[1])
      scores.slice(0, k).forEach(([d, s], r) => out.push({ queryId: queries.ids[q]!, docId: corpus.ids[d]!, score: s, rank: r + 1 }))
    }
    return out
  })

describe("the suite", () => {
  it("runs every task on the shared data, writes MTEB result files, and prints one table", async () => {
    const results = await Effect.runPromise(
      Suite.runSuite(
        {
          embed,
          search,
          rerankCandidates: (documents, queries) =>
            Effect.map(search({ ...(Effect.runSync(embed(documents.map((d) => d.text)))), ids: documents.map((d) => d.id) }, { ...Effect.runSync(embed(queries.map((q) => q.text))), ids: queries.map((q) => q.id) }, 30), (c) => c)
        },
        { nExperiments: 3 }
      )
    )
    expect(results.map((r) => r.task_name)).toEqual([...Suite.suiteTaskNames])
    const score = Object.fromEntries(results.map((r) => [r.task_name, MtebResult.mainScoreOf(r).score]))
    // A bag of hashed words is a weak but real encoder: every score is above chance and below a good model's.
    expect(score.STSBenchmark).toBeGreaterThan(0.3)
    expect(score.SNLIPairClassification).toBeGreaterThan(0.5)
    expect(score.TRECClassification).toBeGreaterThan(1 / 6)
    expect(score.SST2Classification).toBeGreaterThan(0.5)
    expect(score.AGNewsClassification).toBeGreaterThan(0.25)
    expect(score.AGNewsClustering).toBeGreaterThan(0)
    expect(score.CranfieldRetrieval).toBeGreaterThan(0.1)
    expect(score.CISIRetrieval).toBeGreaterThan(0.05)
    expect(score.CranfieldReranking).toBeGreaterThan(0.2)
    for (const s of Object.values(score)) expect(s).toBeLessThan(1)

    const sts = results[0]!.scores.test![0]!
    expect(sts).toMatchObject({ hf_subset: "default", languages: ["eng-Latn"], main_score: sts.cosine_spearman })
    expect(String(sts.aggregation)).toMatch(/^all/)
    const cls = results.find((r) => r.task_name === "TRECClassification")!.scores.test![0]!
    expect(cls.scores_per_experiment).toHaveLength(3)
    expect(cls.main_score).toBe(cls.accuracy)

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "embedflow-suite-"))
    await Effect.runPromise(Suite.writeSuite(dir, results))
    const file = JSON.parse(fs.readFileSync(path.join(dir, "CranfieldReranking.json"), "utf8"))
    expect(Object.keys(file).sort()).toEqual(["dataset_revision", "evaluation_time", "evaluator", "kg_co2_emissions", "mteb_version", "scores", "task_name"])
    expect(file.scores.test[0].main_score).toBe(file.scores.test[0].map)
    const table = Suite.suiteTable("hash", results)
    expect(table.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| task") && !l.startsWith("| ---"))).toHaveLength(9)
  }, 120_000)

  it("an unknown task is refused with the suite's names", () => {
    expect(() => Suite.resolveTasks(["STSBenchmark", "Nope"])).toThrow(/unknown task\(s\) Nope; the suite has STSBenchmark, /)
  })
})

const embedStage = Stage.make({
  name: "test/hash-embed",
  version: "1",
  description: "hashed bag-of-words vectors",
  params: Schema.Struct({}),
  inputs: { texts: Ports.Texts },
  outputs: { embeddings: Ports.Embeddings },
  run: (_p, inputs) =>
    Effect.map(embed(inputs.texts.map((t) => t.text)), (m) => ({ embeddings: { ...m, ids: inputs.texts.map((t) => t.id) } }))
})

/** Candidates by hashed-word inner product, top 50 a query: stands in for bm25/retrieve (a plugin eval cannot import). */
const candidatesStage = Stage.make({
  name: "test/candidates",
  version: "1",
  description: "top-50 documents by hashed bag-of-words inner product",
  params: Schema.Struct({}),
  inputs: { corpus: Ports.Texts, queries: Ports.Texts },
  outputs: { candidates: Ports.Candidates },
  run: (_p, inputs) =>
    Effect.gen(function* () {
      const d = yield* embed(inputs.corpus.map((t) => t.text))
      const q = yield* embed(inputs.queries.map((t) => t.text))
      const candidates = yield* search({ ...d, ids: inputs.corpus.map((t) => t.id) }, { ...q, ids: inputs.queries.map((t) => t.id) }, 50)
      return { candidates }
    })
})

describe("MTEB task stages", () => {
  it("data/labelled-set -> embed -> eval/classification and eval/clustering; eval/mteb-results writes the files", async () => {
    const registry = new Plugin.Registry([dataPlugin, plugin, Plugin.make({ name: "test", version: "1", description: "", stages: [embedStage, candidatesStage] })])
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "embedflow-eval-stages-"))
    const exit = await Effect.runPromiseExit(
      Effect.gen(function* () {
        const graph = yield* Graph.validate(
          {
            name: "mteb",
            seed: 1,
            nodes: [
              { id: "train", stage: "data/labelled-set", params: { set: "trec", split: "train" } },
              { id: "test", stage: "data/labelled-set", params: { set: "trec", split: "test" } },
              { id: "e-train", stage: "test/hash-embed", inputs: { texts: "train.texts" } },
              { id: "e-test", stage: "test/hash-embed", inputs: { texts: "test.texts" } },
              {
                id: "cls",
                stage: "eval/classification",
                params: { task: "TRECClassification", method: "hash", nExperiments: 2 },
                inputs: { train: "train.examples", test: "test.examples", trainEmbeddings: "e-train.embeddings", testEmbeddings: "e-test.embeddings" }
              },
              { id: "clu", stage: "eval/clustering", params: { task: "TRECClustering", method: "hash" }, inputs: { examples: "test.examples", embeddings: "e-test.embeddings" } },
              { id: "snli", stage: "data/snli-pair-labels", params: { split: "test" } },
              { id: "e-snli", stage: "test/hash-embed", inputs: { texts: "snli.sentences" } },
              { id: "pc", stage: "eval/pair-classification", params: { task: "SNLIPairClassification", method: "hash" }, inputs: { pairs: "snli.pairs", sentences: "snli.sentences", embeddings: "e-snli.embeddings" } },
              { id: "cran", stage: "data/ir-collection", params: { collection: "cranfield" } },
              { id: "cand", stage: "test/candidates", inputs: { corpus: "cran.documents", queries: "cran.queries" } },
              { id: "e-docs", stage: "test/hash-embed", inputs: { texts: "cran.documents" } },
              { id: "e-queries", stage: "test/hash-embed", inputs: { texts: "cran.queries" } },
              {
                id: "rr",
                stage: "eval/reranking",
                params: { task: "CranfieldReranking", method: "hash" },
                inputs: { documents: "cran.documents", queries: "cran.queries", qrels: "cran.qrels", candidates: "cand.candidates", documentEmbeddings: "e-docs.embeddings", queryEmbeddings: "e-queries.embeddings" }
              },
              { id: "files", stage: "eval/mteb-results", inputs: { reports: ["cls.report", "clu.report", "pc.report", "rr.report"] } }
            ]
          } as never,
          registry
        )
        return yield* Runner.run(graph)
      }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(root)))
    )
    if (!Exit.isSuccess(exit)) throw new Error(Cause.pretty(exit.cause))
    const cls = exit.value.nodes.cls!.outputs.report as { metrics: Record<string, number>; mteb: MtebResult.MtebResult }
    expect(cls.metrics.main_score).toBe(cls.metrics.accuracy)
    expect(cls.metrics.accuracy).toBeGreaterThan(1 / 6)
    const folder = (exit.value.nodes.files!.outputs.files as { path: string }).path
    expect(fs.readdirSync(path.join(folder, "hash")).sort()).toEqual(["CranfieldReranking.json", "SNLIPairClassification.json", "TRECClassification.json", "TRECClustering.json"])
    const pc = exit.value.nodes.pc!.outputs.report as { metrics: Record<string, number> }
    expect(pc.metrics.main_score).toBe(pc.metrics.max_ap)
    expect(pc.metrics.cosine_ap).toBeGreaterThan(0.5)
    const rr = exit.value.nodes.rr!.outputs.report as { metrics: Record<string, number> }
    expect(rr.metrics.main_score).toBe(rr.metrics.map)
    expect(rr.metrics.queries).toBeGreaterThan(200)
  }, 60_000)
})
