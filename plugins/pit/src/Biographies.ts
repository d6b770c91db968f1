/**
 * Seeded synthetic biographies: invented people (one-word names) with five facts (birth month and year, city, university,
 * field, employer), a document per person whose sentences paraphrase each fact with one of several
 * templates, and templated questions with their gold answers. A fixed number of people go to
 * train (their documents and QA are the PIT paper's train doc / train QA) and the rest to test
 * (test doc for continued pre-training, test QA for the evaluation), as in Jiang et al. (2024).
 */
import { Rng } from "@embedflow/tensor"

export const relations = ["birthDate", "city", "university", "field", "employer"] as const
export type Relation = (typeof relations)[number]

export interface Person {
  readonly id: string
  readonly name: string
  readonly facts: Readonly<Record<Relation, string>>
}

export interface Document {
  readonly id: string
  readonly text: string
}

export interface QaPair {
  readonly id: string
  /** The document (person) the question is about. */
  readonly docId: string
  readonly relation: string
  readonly question: string
  readonly answer: string
}

// Names are invented single words (onset + vowel + coda syllables), distinct per person.
const onsets = ["B", "D", "F", "G", "K", "L", "M", "N", "P", "R", "S", "T", "V", "Z", "Br", "Dr", "Kr", "St", "Th", "Gl"]
const vowels = ["a", "e", "i", "o", "u", "ai", "ou", "ei"]
const codas = ["lan", "mer", "dor", "vik", "sen", "ran", "tis", "gar", "wen", "bel", "ros", "kin"]
const months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
const cities = ["Lisbon", "Osaka", "Toronto", "Nairobi", "Krakow", "Lima", "Auckland", "Hanoi", "Bergen", "Tucson", "Porto", "Leeds", "Quito", "Tbilisi", "Perth", "Dakar"]
const universities = [
  "Halvorsen University", "Marlow Institute", "Eastbrook College", "Vantor University", "Selwyn Polytechnic", "Aldercrest University",
  "Corwin Institute", "Redfern College", "Stonegate University", "Bellmoor Academy", "Ravenhill University", "Tamsin College"
]
const fields = ["astronomy", "linguistics", "geology", "economics", "botany", "robotics", "philosophy", "chemistry", "oceanography", "architecture", "statistics", "music"]
const employers = [
  "Norwick Labs", "Pellham Foods", "Ostara Energy", "Brindle Media", "Quarry Systems", "Lumen Freight", "Harrow Bank", "Tidewell Pharma",
  "Cobalt Motors", "Juniper Books", "Selkie Games", "Arbor Health"
]

/** Paraphrase templates per fact; `{n}` is the full name, `{v}` the value. */
export const factTemplates: Readonly<Record<Relation, ReadonlyArray<string>>> = {
  birthDate: ["{n} was born in {v} .", "{n} came into the world in {v} .", "The birth of {n} was in {v} .", "{n} celebrates a birthday each {v} ."],
  city: ["{n} grew up in {v} .", "{n} spent childhood years in {v} .", "The hometown of {n} is {v} .", "{n} was raised in the city of {v} ."],
  university: ["{n} studied at {v} .", "{n} graduated from {v} .", "{n} received an education at {v} .", "The alma mater of {n} is {v} ."],
  field: ["{n} majored in {v} .", "{n} focused on {v} during college .", "The academic field of {n} was {v} .", "{n} earned a degree in {v} ."],
  employer: ["{n} works for {v} .", "{n} is employed by {v} .", "The employer of {n} is {v} .", "{n} took a job at {v} ."]
}

/** One question template per fact, as in the paper's single-question-per-fact QA. */
export const questionTemplates: Readonly<Record<Relation, string>> = {
  birthDate: "When was {n} born ?",
  city: "Which city did {n} grow up in ?",
  university: "Which university did {n} attend ?",
  field: "What did {n} study ?",
  employer: "Which company does {n} work for ?"
}

export interface BiographyOptions {
  readonly trainPeople: number
  readonly testPeople: number
  /** Paraphrase templates drawn from (1..4). */
  readonly templates: number
  readonly seed: number
  /**
   * People whose documents (no QA) pre-train a base model shared by every method, as Llama 2 is
   * pre-trained before any method of the paper: drawn after the train and test people from the same
   * generator, with names disjoint from theirs. Default 0 (no pre-training set).
   */
  readonly pretrainPeople?: number
  /**
   * How many of the pre-training people also have their questions answered in the pre-training
   * text (`pretrainQa`), as a web corpus holds some QA and Llama 2 answers some questions before
   * any method (the seed: 9.5 % of the test QA, ≈ 30 on Natural Questions). Default 0.
   */
  readonly pretrainQaPeople?: number
}

export interface Biographies {
  readonly trainDocs: ReadonlyArray<Document>
  readonly trainQa: ReadonlyArray<QaPair>
  readonly testDocs: ReadonlyArray<Document>
  readonly testQa: ReadonlyArray<QaPair>
  /** Documents of the pre-training people (empty unless `pretrainPeople` > 0). */
  readonly pretrainDocs?: ReadonlyArray<Document>
  /** Questions about the first `pretrainQaPeople` pre-training people (empty by default). */
  readonly pretrainQa?: ReadonlyArray<QaPair>
}

const fill = (template: string, name: string, value: string) => template.replace("{n}", name).replace("{v}", value)

const nameOf = (k: number) => `${onsets[k % onsets.length]}${vowels[Math.floor(k / onsets.length) % vowels.length]}${codas[Math.floor(k / (onsets.length * vowels.length))]}`

/**
 * Distinct invented people (distinct full names, none of `exclude`), facts drawn uniformly; ids are
 * `${idPrefix}-${i}`.
 */
export const makePeople = (count: number, rng: Rng, exclude: ReadonlySet<string> = new Set(), idPrefix = "person"): Array<Person> => {
  const pool = Array.from({ length: onsets.length * vowels.length * codas.length }, (_, k) => k).filter((k) => !exclude.has(nameOf(k)))
  if (count > pool.length) throw new RangeError(`makePeople: at most ${pool.length} distinct names, asked for ${count}`)
  const names = rng.sample(pool.length, count)
  return Array.from(names, (k, i) => ({
    id: `${idPrefix}-${i}`,
    name: nameOf(pool[k]!),
    facts: {
      birthDate: `${rng.choice(months)} ${1940 + rng.int(40)}`,
      city: rng.choice(cities),
      university: rng.choice(universities),
      field: rng.choice(fields),
      employer: rng.choice(employers)
    }
  }))
}

/** A document: one sentence per fact, each with a random template, in a random order. */
export const documentOf = (person: Person, templates: number, rng: Rng): Document => {
  const order = rng.shuffle([...relations])
  const sentences = order.map((r) => fill(factTemplates[r][rng.int(Math.min(templates, factTemplates[r].length))]!, person.name, person.facts[r]))
  return { id: person.id, text: sentences.join(" ") }
}

export const questionsOf = (person: Person): Array<QaPair> =>
  relations.map((r) => ({ id: `${person.id}/${r}`, docId: person.id, relation: r, question: fill(questionTemplates[r], person.name, ""), answer: person.facts[r] }))

export const makeBiographies = (options: BiographyOptions): Biographies => {
  const { trainPeople, testPeople, templates, seed } = options
  if (!(templates >= 1 && templates <= 4)) throw new RangeError(`makeBiographies: templates must be in 1..4, got ${templates}`)
  const qaPeople = options.pretrainQaPeople ?? 0
  if (qaPeople > (options.pretrainPeople ?? 0)) throw new RangeError(`makeBiographies: pretrainQaPeople (${qaPeople}) must not exceed pretrainPeople (${options.pretrainPeople ?? 0})`)
  const rng = new Rng(seed)
  const people = makePeople(trainPeople + testPeople, rng)
  const docs = people.map((p) => documentOf(p, templates, rng))
  const train = people.slice(0, trainPeople), test = people.slice(trainPeople)
  // Drawn after everything above, so the train and test data do not depend on pretrainPeople.
  const pretrain = makePeople(options.pretrainPeople ?? 0, rng, new Set(people.map((p) => p.name)), "pretrain-person")
  return {
    pretrainDocs: pretrain.map((p) => documentOf(p, templates, rng)),
    pretrainQa: pretrain.slice(0, qaPeople).flatMap(questionsOf),
    trainDocs: docs.slice(0, trainPeople),
    trainQa: train.flatMap(questionsOf),
    testDocs: docs.slice(trainPeople),
    testQa: test.flatMap(questionsOf)
  }
}
