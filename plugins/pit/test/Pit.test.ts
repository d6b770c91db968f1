import { ArtifactStore, Graph, makeFileSystem, Plugin, Runner } from "@embedflow/core"
import { Gpt2Decoder } from "@embedflow/tensor"
import { Cause, Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { encodeUnit, packUnits } from "../src/CausalLmTrainer.js"
import { greedyContinuations } from "../src/GreedyDecoding.js"
import { answerStopWords, Biographies, buildCurriculum, defaultSettings, mergeSettings, pretrainingCurriculum, trainCausalLm, documentLoss, documentRecall, exactMatch, factPrompts, exactMatchScore, kShotPrompt, loadModelFolder, methods, normalizeAnswer, plugin, saveModelFolder, WordTokenizer } from "../src/index.js"
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

  it("pre-training people leave the train/test data as they were and share no name with them", () => {
    const withBase = Biographies.makeBiographies({ trainPeople: 6, testPeople: 3, templates: 4, seed: 5, pretrainPeople: 40 })
    expect(data.pretrainDocs).toEqual([])
    expect({ ...withBase, pretrainDocs: [] }).toEqual(data)
    expect(withBase.pretrainDocs!.length).toBe(40)
    const nameOf = (text: string) => new Set(text.split(" ").filter((w) => /^[A-Z][a-z]+$/.test(w)))
    const used = new Set([...data.trainQa, ...data.testQa].map((q) => q.question.split(" ").find((w) => /^[A-Z][a-z]+$/.test(w) && !["When", "Which", "What"].includes(w))!))
    expect(used.size).toBe(9)
    for (const d of withBase.pretrainDocs!) for (const w of nameOf(d.text)) expect(used.has(w)).toBe(false)
    expect(new Set(withBase.pretrainDocs!.map((d) => d.id)).size).toBe(40)
  })

  it("pretrainQaPeople adds the questions of the first pre-training people only, and changes nothing else", () => {
    const docsOnly = Biographies.makeBiographies({ trainPeople: 6, testPeople: 3, templates: 4, seed: 5, pretrainPeople: 40 })
    const withQa = Biographies.makeBiographies({ trainPeople: 6, testPeople: 3, templates: 4, seed: 5, pretrainPeople: 40, pretrainQaPeople: 10 })
    expect(docsOnly.pretrainQa).toEqual([])
    expect({ ...withQa, pretrainQa: [] }).toEqual(docsOnly)
    expect(withQa.pretrainQa!.length).toBe(50)
    expect(new Set(withQa.pretrainQa!.map((q) => q.docId))).toEqual(new Set(withQa.pretrainDocs!.slice(0, 10).map((d) => d.id)))
    // Every answer is stated in its person's pre-training document.
    const docs = new Map(withQa.pretrainDocs!.map((d) => [d.id, d.text]))
    for (const q of withQa.pretrainQa!) expect(docs.get(q.docId)).toContain(q.answer)
    const stream = pretrainingCurriculum(withQa.pretrainDocs!, 3, withQa.pretrainQa)
    expect(stream.phases.map((p) => [p.name, p.epochs, p.units.length])).toEqual([["pretraining docs + QA", 3, 90]])
    const qaUnit = stream.phases[0]!.units.find((u) => u.id === `qa:${withQa.pretrainQa![0]!.id}`)!
    expect(qaUnit.segments.map((x) => x.scored)).toEqual([false, true])
    expect(() => Biographies.makeBiographies({ trainPeople: 2, testPeople: 1, templates: 1, seed: 1, pretrainPeople: 3, pretrainQaPeople: 4 })).toThrow(/pretrainQaPeople \(4\) must not exceed pretrainPeople \(3\)/)
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

  it("with a seed, each PIT unit asks its document's questions in a seeded order (a permutation, not the same for every person)", () => {
    const questionsOf = (c: ReturnType<typeof buildCurriculum>) =>
      c.phases[0]!.units.map((u) => u.segments.filter((s) => !s.scored).map((s) => s.text))
    const plain = questionsOf(buildCurriculum("pit", data, epochs))
    const shuffled = questionsOf(buildCurriculum("pit", data, { ...epochs, qaOrderSeed: 4 }))
    expect(questionsOf(buildCurriculum("pit", data, { ...epochs, qaOrderSeed: 4 }))).toEqual(shuffled)
    shuffled.forEach((qs, i) => expect([...qs].sort()).toEqual([...plain[i]!].sort()))
    // Relation order of the first question differs between people (4 people, 5 relations each).
    const firstRelation = shuffled.map((qs, i) => plain[i]!.indexOf(qs[0]!))
    expect(firstRelation.every((r) => r >= 0)).toBe(true)
    expect(new Set(firstRelation).size).toBeGreaterThan(1)
    expect(shuffled).not.toEqual(plain)
  })

  it("the document-first PIT layout puts the document before its questions", () => {
    const unit = buildCurriculum("pit", data, { ...epochs, pitLayout: "document-first" }).phases[0]!.units[0]!
    expect(unit.id).toBe(`doc+qa:${data.trainDocs[0]!.id}`)
    expect(unit.segments[0]!.text).toBe(`${data.trainDocs[0]!.text} <sep>`)
    expect(unit.segments.map((s) => s.scored)).toEqual([true, false, true, false, true, false, true, false, true, false, true])
  })
})

describe("trainer", () => {
  it("reports each phase's tokens per epoch and calls onPhaseEnd after each phase with the model", () => {
    const data = Biographies.makeBiographies({ trainPeople: 3, testPeople: 2, templates: 2, seed: 3 })
    const curriculum = buildCurriculum("pit", data, { documentEpochs: 1, instructionEpochs: 1, qaOrderSeed: 1 })
    const tokenizer = WordTokenizer.fromTexts(curriculum.phases.flatMap((p) => p.units.flatMap((u) => u.segments.map((s) => s.text))))
    const ended: Array<number> = [], seen: Array<Gpt2Decoder> = []
    const { model, phases } = trainCausalLm(curriculum, tokenizer, {
      hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16, maxPositions: 64, batchSize: 2, lr: 1e-3, weightDecay: 0, warmupRatio: 0, seed: 1,
      onPhaseEnd: (i, m) => {
        ended.push(i)
        seen.push(m)
      }
    })
    expect(ended).toEqual([0, 1])
    expect(seen.every((m) => m === model)).toBe(true)
    curriculum.phases.forEach((p, i) => {
      const encoded = p.units.map((u) => encodeUnit(tokenizer, u, 63))
      expect(phases[i]!.tokensPerEpoch).toBe(encoded.reduce((a, u) => a + u.ids.length, 0))
      expect(phases[i]!.scoredTokensPerEpoch).toBe(encoded.reduce((a, u) => a + u.targets.filter((t) => t === 1).length, 0))
    })
    // Test documents are scored whole; PIT units score answers and the document only.
    expect(phases[1]!.scoredTokensPerEpoch).toBe(phases[1]!.tokensPerEpoch)
    expect(phases[0]!.scoredTokensPerEpoch).toBeLessThan(phases[0]!.tokensPerEpoch)
  })
})

describe("document recall", () => {
  const data = Biographies.makeBiographies({ trainPeople: 2, testPeople: 3, templates: 4, seed: 9 })
  const tokenizer = WordTokenizer.fromTexts([...data.testDocs.map((d) => d.text), "<sep>"])

  it("each fact's prompt is its document up to the value, which comes next", () => {
    const facts = factPrompts(data.testDocs, data.testQa)
    expect(facts.length).toBe(15)
    facts.forEach((f, i) => {
      const doc = data.testDocs.find((d) => d.id === data.testQa[i]!.docId)!.text
      expect(doc.startsWith(`${f.prompt} ${f.value} `)).toBe(true)
    })
    expect(() => factPrompts(data.testDocs, [{ ...data.testQa[0]!, answer: "Atlantis" }])).toThrow(`document "${data.testQa[0]!.docId}" does not state ${data.testQa[0]!.relation} = "Atlantis"`)
  })

  it("documentLoss is the mean next-token loss over the documents' tokens, as a log-softmax by hand gives", () => {
    const model = Gpt2Decoder.random({ vocabSize: tokenizer.size, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16, maxPositions: 64, layerNormEps: 1e-5 }, 2, 0.3)
    let sum = 0, count = 0
    for (const d of data.testDocs) {
      const ids = [2, ...tokenizer.encode(d.text)]
      const batch = { inputIds: Int32Array.from(ids), batch: 1, seqLen: ids.length }
      const logits = model.logits(model.forward(batch))
      for (let t = 0; t + 1 < ids.length; t++) {
        const row = Array.from(logits.data.subarray(t * logits.cols, (t + 1) * logits.cols))
        const max = Math.max(...row)
        const logZ = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0))
        sum += logZ - row[ids[t + 1]!]!
        count++
      }
    }
    expect(documentLoss(model, tokenizer, data.testDocs, 2)).toBeCloseTo(sum / count, 4)
    const recall = documentRecall(model, tokenizer, data.testDocs, data.testQa)
    expect(recall.facts).toBe(15)
    expect(recall.perplexity).toBeCloseTo(Math.exp(sum / count), 3)
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

  it("greedy decoding stops before a stop word, and k-shot QA stops at '.' and ',' as lm-evaluation-harness does for closed-book QA", () => {
    const model = Gpt2Decoder.random({ vocabSize: tokenizer.size, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16, maxPositions: 32, layerNormEps: 1e-5 }, 5, 0.5)
    const prompts = ["Question : Where ? Answer :", "Lima is", "Peru"]
    const free = greedyContinuations(model, tokenizer, prompts, { maxNewTokens: 6, batchSize: 3 })
    const firstWords = free.map((o) => o.split(" ")[0]!).filter((w) => w !== "")
    expect(firstWords.length).toBeGreaterThan(0)
    const stopped = greedyContinuations(model, tokenizer, prompts, { maxNewTokens: 6, batchSize: 3, stopWords: [firstWords[0]!] })
    free.forEach((o, i) => {
      const words = o === "" ? [] : o.split(" ")
      const at = words.indexOf(firstWords[0]!)
      expect(stopped[i]).toBe((at < 0 ? words : words.slice(0, at)).join(" "))
    })
    expect(stopped).not.toEqual(free)
    expect(answerStopWords).toEqual([".", ","])
  })

  it("the k-shot prompt is the training format, demonstrations first", () => {
    const demo = { id: "a", docId: "d", relation: "city", question: "Where ?", answer: "Lima" }
    expect(kShotPrompt([demo, demo], "Whence ?")).toBe("Question : Where ? Answer : Lima <sep> Question : Where ? Answer : Lima <sep> Question : Whence ? Answer :")
  })
})

describe("trainer from a base model", () => {
  const data = Biographies.makeBiographies({ trainPeople: 3, testPeople: 2, templates: 2, seed: 3, pretrainPeople: 4 })
  const tokenizer = WordTokenizer.fromTexts([...data.pretrainDocs!, ...data.trainDocs, ...data.testDocs].map((d) => d.text).concat(data.trainQa.flatMap((q) => [q.question, q.answer]), ["Question : Answer : <sep>"]))
  const size = { hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16, maxPositions: 64, batchSize: 2, lr: 1e-2, weightDecay: 0, warmupRatio: 0 }
  const { model: base, phases } = trainCausalLm(pretrainingCurriculum(data.pretrainDocs!, 2), tokenizer, { ...size, seed: 9 })
  const values = (m: Gpt2Decoder) => m.allParams().map((p) => Array.from(p.value))

  it("starts from the base's weights and leaves the base unchanged", () => {
    expect(phases.map((p) => [p.name, p.units, p.steps > 0])).toEqual([["pretraining docs", 4, true]])
    expect(values(base)).not.toEqual(values(Gpt2Decoder.random(base.config, 9)))
    const before = values(base)
    // No epochs: the returned model is a copy of the base.
    const copy = trainCausalLm({ method: "continued-pretraining", phases: [{ name: "none", epochs: 0, units: [] }] }, tokenizer, { ...size, seed: 1, base })
    expect(copy.model).not.toBe(base)
    expect(values(copy.model)).toEqual(before)
    const trained = trainCausalLm(buildCurriculum("continued-pretraining", data, { documentEpochs: 1, instructionEpochs: 1 }), tokenizer, { ...size, seed: 1, base })
    expect(values(base)).toEqual(before)
    expect(values(trained.model)).not.toEqual(before)
  })

  it("rejects a base of another shape", () => {
    expect(() => trainCausalLm(pretrainingCurriculum(data.testDocs, 1), tokenizer, { ...size, hiddenSize: 16, seed: 1, base })).toThrow(/base model's hiddenSize is 8, the options give 16/)
  })
})

describe("replication settings", () => {
  it("merges an override into the defaults field by field", () => {
    const merged = mergeSettings({ train: { lr: 5e-3 }, pretrain: { people: 200, epochs: 40 } })
    expect(merged.train).toEqual({ ...defaultSettings.train, lr: 5e-3 })
    expect([merged.data, merged.epochs, merged.k]).toEqual([defaultSettings.data, defaultSettings.epochs, defaultSettings.k])
    expect(merged.pretrain).toEqual({ people: 200, epochs: 40 })
    expect(mergeSettings({}, merged).pretrain).toEqual({ people: 200, epochs: 40 })
    expect(mergeSettings({})).toEqual(defaultSettings)
  })
})

describe("the pit stages in a graph (tiny)", () => {
  it("biographies -> curriculum -> train-lm -> evaluate-qa -> compare; EM is recomputable from the predictions", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "embedflow-pit-"))
    const registry = new Plugin.Registry([plugin])
    const nodes = [
      { id: "bio", stage: "pit/biographies", params: { trainPeople: 4, testPeople: 2, templates: 2, pretrainPeople: 3, pretrainQaPeople: 2 } },
      { id: "pre", stage: "pit/pretraining-curriculum", params: { epochs: 2 }, inputs: { docs: "bio.pretrainDocs", qa: "bio.pretrainQa" } },
      { id: "base", stage: "pit/train-lm", params: { hiddenSize: 16, numHeads: 2, intermediateSize: 32, maxPositions: 96 }, inputs: { curriculum: "pre.curriculum", vocabulary: "bio.vocabulary" } },
      { id: "cur", stage: "pit/curriculum", params: { method: "pit", documentEpochs: 2, instructionEpochs: 2 }, inputs: { trainDocs: "bio.trainDocs", trainQa: "bio.trainQa", testDocs: "bio.testDocs" } },
      { id: "lm", stage: "pit/train-lm", params: { hiddenSize: 16, numHeads: 2, intermediateSize: 32, maxPositions: 96 }, inputs: { curriculum: "cur.curriculum", vocabulary: "bio.vocabulary", base: "base.model" } },
      { id: "qa", stage: "pit/evaluate-qa", params: { k: 2, maxNewTokens: 4 }, inputs: { model: "lm.model", questions: "bio.testQa", demonstrations: "bio.trainQa" } },
      { id: "table", stage: "pit/compare", inputs: { reports: ["qa.report"] } }
    ]
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const graph = yield* Graph.validate({ name: "pit-tiny", nodes }, registry)
        return yield* Runner.run(graph)
      }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(root)))
    )
    const pre = result.nodes.base!.outputs.report as { method: string; phases: Array<{ units: number; steps: number }> }
    // 3 documents and the 2 x 5 questions of the first two pre-training people.
    expect([pre.method, pre.phases[0]!.units]).toEqual(["pretraining", 13])
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

  it("train-lm fails, naming the node, when its base model's vocabulary is not its own", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "embedflow-pit-"))
    const registry = new Plugin.Registry([plugin])
    const size = { hiddenSize: 16, numHeads: 2, intermediateSize: 32, maxPositions: 96 }
    const nodes = [
      { id: "bio", stage: "pit/biographies", params: { trainPeople: 2, testPeople: 1, templates: 1, pretrainPeople: 2 } },
      { id: "pre", stage: "pit/pretraining-curriculum", params: { epochs: 1 }, inputs: { docs: "bio.pretrainDocs" } },
      { id: "base", stage: "pit/train-lm", params: size, inputs: { curriculum: "pre.curriculum", vocabulary: "bio.vocabulary" } },
      { id: "cur", stage: "pit/curriculum", params: { method: "continued-pretraining", documentEpochs: 1, instructionEpochs: 1 }, inputs: { trainDocs: "bio.trainDocs", trainQa: "bio.trainQa", testDocs: "bio.testDocs" } },
      // No vocabulary input: this node's tokenizer knows only the test documents' words.
      { id: "lm", stage: "pit/train-lm", params: size, inputs: { curriculum: "cur.curriculum", base: "base.model" } }
    ]
    const exit = await Effect.runPromiseExit(
      Effect.gen(function* () {
        const graph = yield* Graph.validate({ name: "pit-base-mismatch", nodes }, registry)
        return yield* Runner.run(graph)
      }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(root)))
    )
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "")).toMatch(/lm: the base model's vocabulary \(\d+ words\) differs/)
  })
})
