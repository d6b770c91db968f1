/**
 * Why does a method score what it scores? Trains one method x seed and, after every phase, prints
 * the test documents' loss / perplexity and fact recall (memorized?), 5-shot EM on train QA (the QA
 * format kept?) and on test QA (the knowledge retrievable by a question?), plus the tokens each
 * phase trains on and how often the test documents are seen.
 *   npx tsx plugins/pit/bench/diagnose.ts --method pit --seed 11 [--settings '{"epochs":{...}}']
 */
import { parseArgs } from "node:util"
import { Rng } from "@embedflow/tensor"
import { buildCurriculum, evaluateKShot, mergeSettings, type Method, methods, pretrainedBase, type SettingsOverride, trainCausalLm, WordTokenizer } from "../src/index.js"
import { makeBiographies } from "../src/Biographies.js"
import { documentRecall } from "../src/DocumentRecall.js"
import { vocabularyTexts } from "../src/Vocabulary.js"

const { values } = parseArgs({ options: { method: { type: "string", default: "pit" }, seed: { type: "string", default: "11" }, settings: { type: "string" } } })
const method = values.method as Method
if (!methods.includes(method)) throw new Error(`--method: unknown method "${method}" (known: ${methods.join(", ")})`)
const seed = Number(values.seed)
const settings = mergeSettings(values.settings ? (JSON.parse(values.settings) as SettingsOverride) : {})
console.log(method, "seed", seed, JSON.stringify(settings))
const data = makeBiographies({ ...settings.data, pretrainPeople: settings.pretrain?.people ?? 0, pretrainQaPeople: settings.pretrain?.qaPeople ?? 0, seed })
const curriculum = buildCurriculum(method, data, { qaOrderSeed: seed, ...settings.epochs })
const tokenizer = WordTokenizer.fromTexts(vocabularyTexts(data))
const testDocIds = new Set(data.testDocs.map((d) => `doc:${d.id}`))
const trainQaProbe = Array.from(new Rng(seed + 3).sample(data.trainQa.length, 100), (i) => data.trainQa[i]!)
const valuesOf = new Map<string, Set<string>>()
for (const q of [...data.trainQa, ...data.testQa]) valuesOf.set(q.relation, new Set([...(valuesOf.get(q.relation) ?? []), q.answer.toLowerCase()]))
const base = settings.pretrain ? pretrainedBase(data, tokenizer, seed, settings) : undefined
if (base) console.log(`shared base: ${base.tokens} tokens of ${settings.pretrain!.people} other people's documents, ${base.seconds.toFixed(0)} s`)
const started = performance.now()
const { phases } = trainCausalLm(curriculum, tokenizer, {
  ...settings.train,
  seed,
  ...(base ? { base: base.model } : {}),
  onPhaseEnd: (pi, model) => {
    const recall = documentRecall(model, tokenizer, data.testDocs, data.testQa)
    const trainRecall = documentRecall(model, tokenizer, data.trainDocs, data.trainQa)
    const kshot = { k: settings.k, seed: seed + 7, maxNewTokens: 8, batchSize: 64 }
    const test = evaluateKShot(model, tokenizer, data.testQa, data.trainQa, kshot)
    const train = evaluateKShot(model, tokenizer, trainQaProbe, data.trainQa, kshot)
    const typed = test.predictions.filter((p, i) => valuesOf.get(data.testQa[i]!.relation)!.has(p.prediction.toLowerCase())).length
    const p = curriculum.phases[pi]!
    const testDocUnits = p.units.filter((u) => testDocIds.has(u.id)).length
    console.log(
      `after phase ${pi + 1} "${p.name}" (${p.units.length} units, ${testDocUnits} test docs, ${p.epochs} epochs; ${((performance.now() - started) / 1000).toFixed(0)} s):\n` +
        `  test docs: loss ${recall.loss.toFixed(3)} (ppl ${recall.perplexity.toFixed(2)}), fact recall ${recall.factRecall.toFixed(0)} %; train docs: ppl ${trainRecall.perplexity.toFixed(2)}, recall ${trainRecall.factRecall.toFixed(0)} %\n` +
        `  5-shot EM: train QA ${train.exactMatch.toFixed(0)} %, test QA ${test.exactMatch.toFixed(0)} % (answers of the right type ${typed} %) ${JSON.stringify(Object.fromEntries(Object.entries(test.byRelation).map(([k, v]) => [k, Math.round(v)])))}\n` +
        `  e.g. ${test.predictions.slice(0, 4).map((x) => `${x.gold} -> ${x.prediction}`).join(" | ")}`
    )
  }
})
let testDocTokens = 0
for (const [i, p] of phases.entries()) {
  const testDocTokensPerEpoch = curriculum.phases[i]!.units.filter((u) => testDocIds.has(u.id)).reduce((a, u) => a + tokenizer.encode(u.segments.map((s) => s.text).join(" ")).length, 0)
  testDocTokens += testDocTokensPerEpoch * p.epochs
  console.log(`phase ${i + 1}: ${p.steps} steps, ${p.tokensPerEpoch} tokens/epoch (${p.scoredTokensPerEpoch} scored) x ${p.epochs} = ${p.tokensPerEpoch * p.epochs} tokens; loss ${p.firstEpochLoss.toFixed(3)} -> ${p.lastEpochLoss.toFixed(3)}`)
}
console.log(`total ${phases.reduce((a, p) => a + p.steps, 0)} steps, ${phases.reduce((a, p) => a + p.tokensPerEpoch * p.epochs, 0)} tokens, of which test-doc tokens ${testDocTokens}`)
