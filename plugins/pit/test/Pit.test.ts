import { ArtifactStore, Graph, makeFileSystem, Plugin, Runner } from "@embedflow/core"
import { Gpt2Decoder } from "@embedflow/tensor"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { encodeUnit, packUnits } from "../src/CausalLmTrainer.js"
import { greedyContinuations } from "../src/GreedyDecoding.js"
import { Biographies, buildCurriculum, exactMatch, exactMatchScore, kShotPrompt, loadModelFolder, methods, normalizeAnswer, plugin, saveModelFolder, WordTokenizer } from "../src/index.js"
import { Rng } from "@embedflow/tensor"

describe("exact match", () => {
  it("normalises case, punctuation and spacing, nothing else", () => {
    expect(normalizeAnswer("  March 1971. ")).toBe("march 1971")
    expect(exactMatch("march 1971", "March 1971")).toBe(true)
    expect(exactMatch("Norwick  Labs", "Norwick Labs")).toBe(true)
    expect(exactMatch("Norwick", "Norwick Labs")).toBe(false)
    expect(exactMatch("March 1972", "March 1971")).toBe(false)
    expect(exactMatch("", "Lima")).toBe(false)
    expect(exactMatchScore(["Lima", "porto", "Krakow x", "Leeds"], ["Lima", "Porto", "Krakow", "Perth"])).toBe(50)
    expect(() => exactMatchScore(["a"], ["a", "b"])).toThrow(/1 predictions for 2 golds/)
  })
})

describe("synthetic biographies", () => {
  const data = Biographies.makeBiographies({ trainPeople: 6, testPeople: 3, templates: 4, seed: 5 })

  it("splits people into train/test roles, five questions each, every answer stated in its document", () => {
    expect([data.trainDocs.length, data.trainQa.length, data.testDocs.length, data.testQa.length]).toEqual([6, 30, 3, 15])
    const docs = new Map([...data.trainDocs, ...data.testDocs].map((d) => [d.id, d.text]))
    for (const q of [...data.trainQa, ...data.testQa]) expect(docs.get(q.docId)).toContain(q.answer)
    const trainIds = new Set(data.trainDocs.map((d) => d.id))
    expect(data.testQa.every((q) => !trainIds.has(q.docId))).toBe(true)
    expect(new Set(data.testQa.map((q) => q.relation))).toEqual(new Set(Biographies.relations))
  })

  it("is a function of the seed", () => {
    expect(Biographies.makeBiographies({ trainPeople: 6, testPeople: 3, templates: 4, seed: 5 })).toEqual(data)
    expect(Biographies.makeBiographies({ trainPeople: 6, testPeople: 3, templates: 4, seed: 6 }).trainDocs[0]!.text).not.toBe(data.trainDocs[0]!.text)
  })
})

describe("curricula", () => {
  const data = Biographies.makeBiographies({ trainPeople: 4, testPeople: 2, templates: 2, seed: 1 })
  const epochs = { documentEpochs: 3, instructionEpochs: 2 }
  const shape = (m: (typeof methods)[number]) => buildCurriculum(m, data, epochs).phases.map((p) => [p.units.length, p.epochs])

  it("builds each method's phases as the seed describes them", () => {
    expect(shape("continued-pretraining")).toEqual([[2, 3]])
    expect(shape("instruction-tuning")).toEqual([[6, 3], [20, 2]])
    expect(shape("mixed")).toEqual([[26, 3]])
    expect(shape("pit")).toEqual([[4, 2], [2, 3]])
    expect(shape("pit-qa-only")).toEqual([[20, 2], [2, 3]])
    expect(shape("pit-qa-then-docs")).toEqual([[20, 2], [4, 2], [2, 3]])
  })

  it("PIT puts each train document's questions before the document (no answer can attend to its document); only answers and documents are scored", () => {
    const [first, second] = buildCurriculum("pit", data, epochs).phases
    const unit = first!.units[0]!
    expect(unit.segments.at(-1)!.text.startsWith(data.trainDocs[0]!.text)).toBe(true)
    expect(unit.segments.map((s) => s.scored)).toEqual([false, true, false, true, false, true, false, true, false, true, true])
    expect(unit.segments[0]!.text).toBe(`Question : ${data.trainQa[0]!.question} Answer :`)
    expect(unit.segments[1]!.text).toBe(`${data.trainQa[0]!.answer} <sep>`)
    for (const s of unit.segments.slice(0, -1)) expect(data.trainDocs[0]!.text.includes(s.text)).toBe(false)
    expect(second!.units.map((u) => u.id)).toEqual(data.testDocs.map((d) => `doc:${d.id}`))
  })
})

describe("tokenizer, packing and the model folder", () => {
  const tokenizer = WordTokenizer.fromTexts(["Lima is in Peru .", "Question : Where ? Answer : Lima <sep>"])

  it("word-level round trip with <unk> for unseen words", () => {
    expect(tokenizer.decode(tokenizer.encode("Lima is in Peru ."))).toBe("Lima is in Peru .")
    expect(tokenizer.decode(tokenizer.encode("Lima is in Chile"))).toBe("Lima is in <unk>")
    expect(tokenizer.encode("Answer : Lima <sep>").at(-1)).toBe(3)
  })

  it("packs the shuffled units into full <bos>-led sequences, continuing a unit that does not fit in the next, targets aligned", () => {
    const units = [0, 1, 2, 3].map((i) => encodeUnit(tokenizer, { id: `${i}`, segments: [{ text: "Question : Where ?", scored: false }, { text: "Lima <sep>", scored: true }] }, 20))
    // 4 units x 6 tokens = 24 tokens; 12 fit after each <bos>: two full sequences of 13.
    const packed = packUnits(units, 13, new Rng(1))
    expect(packed.map((p) => p.ids.length)).toEqual([13, 13])
    const long = encodeUnit(tokenizer, { id: "long", segments: [{ text: "Lima is in Peru . Lima is in Peru .", scored: true }] }, 20)
    const split = packUnits([units[0]!, long], 8, new Rng(2))
    expect(split.map((p) => p.ids.length)).toEqual([8, 8, 3])
    const stream = split.flatMap((p) => p.ids.slice(1))
    const targets = split.flatMap((p) => p.targets.slice(1))
    expect(stream.length).toBe(units[0]!.ids.length + long.ids.length)
    for (const p of split) {
      expect(p.ids[0]).toBe(2)
      expect(p.targets[0]).toBe(0)
    }
    expect(tokenizer.decode(stream.filter((_, i) => targets[i] === 1))).toMatch(/^(Lima <sep> Lima is in Peru \. Lima is in Peru \.|Lima is in Peru \. Lima is in Peru \. Lima <sep>)$/)
  })

  it("a saved model loads back with the same greedy outputs", () => {
    const model = Gpt2Decoder.random({ vocabSize: tokenizer.size, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16, maxPositions: 32, layerNormEps: 1e-5 }, 3, 0.5)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pit-model-"))
    saveModelFolder(dir, model, tokenizer, { method: "pit" })
    const loaded = loadModelFolder(dir)
    expect(loaded.meta.method).toBe("pit")
    const prompts = ["Question : Where ? Answer :", "Lima is"]
    const before = greedyContinuations(model, tokenizer, prompts, { maxNewTokens: 5, batchSize: 1 })
    expect(greedyContinuations(loaded.model, loaded.tokenizer, prompts, { maxNewTokens: 5, batchSize: 2 })).toEqual(before)
  })

  it("the k-shot prompt is the training format, demonstrations first", () => {
    const demo = { id: "a", docId: "d", relation: "city", question: "Where ?", answer: "Lima" }
    expect(kShotPrompt([demo, demo], "Whence ?")).toBe("Question : Where ? Answer : Lima <sep> Question : Where ? Answer : Lima <sep> Question : Whence ? Answer :")
  })
})

describe("the pit stages in a graph (tiny)", () => {
  it("biographies -> curriculum -> train-lm -> evaluate-qa -> compare; EM is recomputable from the predictions", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "embedflow-pit-"))
    const registry = new Plugin.Registry([plugin])
    const nodes = [
      { id: "bio", stage: "pit/biographies", params: { trainPeople: 4, testPeople: 2, templates: 2 } },
      { id: "cur", stage: "pit/curriculum", params: { method: "pit", documentEpochs: 2, instructionEpochs: 2 }, inputs: { trainDocs: "bio.trainDocs", trainQa: "bio.trainQa", testDocs: "bio.testDocs" } },
      { id: "lm", stage: "pit/train-lm", params: { hiddenSize: 16, numHeads: 2, intermediateSize: 32, maxPositions: 96 }, inputs: { curriculum: "cur.curriculum", vocabulary: "bio.vocabulary" } },
      { id: "qa", stage: "pit/evaluate-qa", params: { k: 2, maxNewTokens: 4 }, inputs: { model: "lm.model", questions: "bio.testQa", demonstrations: "bio.trainQa" } },
      { id: "table", stage: "pit/compare", inputs: { reports: ["qa.report"] } }
    ]
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const graph = yield* Graph.validate({ name: "pit-tiny", nodes }, registry)
        return yield* Runner.run(graph)
      }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(root)))
    )
    const train = result.nodes.lm!.outputs.report as { phases: Array<{ steps: number; firstEpochLoss: number; lastEpochLoss: number }> }
    expect(train.phases.map((p) => p.steps > 0)).toEqual([true, true])
    expect(train.phases[0]!.lastEpochLoss).toBeLessThan(train.phases[0]!.firstEpochLoss)
    const report = result.nodes.qa!.outputs.report as { method: string; exactMatch: number; questions: number; predictions: Array<{ gold: string; prediction: string; correct: boolean }> }
    expect(report.method).toBe("pit")
    expect(report.questions).toBe(10)
    expect(report.exactMatch).toBe(exactMatchScore(report.predictions.map((p) => p.prediction), report.predictions.map((p) => p.gold)))
    expect(report.predictions.every((p) => p.correct === exactMatch(p.prediction, p.gold))).toBe(true)
    const table = result.nodes.table!.outputs.report as { table: Array<{ method: string; exactMatch: number; runs: number }> }
    expect(table.table).toEqual([{ method: "pit", exactMatch: report.exactMatch, sd: 0, runs: 1 }])
  })
})
