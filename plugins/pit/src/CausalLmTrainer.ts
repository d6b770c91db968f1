/**
 * Trains a small GPT (the tensor engine's Gpt2Decoder, random init) from scratch on a curriculum,
 * phase by phase: each phase runs its epochs over its units in a seeded shuffled order, packed
 * into full-length sequences, with a
 * fresh AdamW and a warmup + cosine learning-rate schedule, as separate training runs would.
 * The next-token loss covers only each unit's scored segments (documents; answers of QA pairs).
 */
import { AdamW, clipGradNorm, type DecoderConfig, Gpt2Decoder, learningRateSchedule, padBatch, Rng } from "@embedflow/tensor"
import { type Curriculum, type Unit } from "./Curriculum.js"
import { BOS, PAD, type WordTokenizer } from "./WordTokenizer.js"

export interface ModelSize {
  readonly hiddenSize: number
  readonly numLayers: number
  readonly numHeads: number
  readonly intermediateSize: number
  /** Longest training sequence and generation context, in tokens. */
  readonly maxPositions: number
}

export interface TrainOptions extends ModelSize {
  readonly batchSize: number
  readonly lr: number
  /**
   * Peak learning rate of every phase after the first (continued pre-training, instruction tuning
   * of the trained model). Default: `lr` — every phase of every method on the same schedule. A
   * lower rate here under-trains the last phase: PIT's test documents were not memorized at 1e-3
   * (fact recall ≈ 60 %), see the plugin README.
   */
  readonly continuationLr?: number
  readonly weightDecay: number
  /** Fraction of each phase's steps spent warming up. */
  readonly warmupRatio: number
  readonly seed: number
  /**
   * A model to start from (its weights are copied, it is not changed), e.g. the base pre-trained on
   * other people's documents that every method shares; its config must match `options` and the
   * tokenizer. Default: `Gpt2Decoder.random` with `seed`.
   */
  readonly base?: Gpt2Decoder
  readonly onStep?: (step: number, total: number) => void
  /** Called with the model after each phase (a probe of what each phase did). */
  readonly onPhaseEnd?: (phase: number, model: Gpt2Decoder) => void
}

export interface PhaseReport {
  readonly name: string
  readonly epochs: number
  readonly units: number
  readonly steps: number
  /** Tokens of the phase's units per epoch (all, and those scored by the loss). */
  readonly tokensPerEpoch: number
  readonly scoredTokensPerEpoch: number
  /** Mean scored-token loss of the phase's first and last epochs. */
  readonly firstEpochLoss: number
  readonly lastEpochLoss: number
}

export interface EncodedUnit {
  readonly ids: Array<number>
  /** 1 where the token is a loss target. */
  readonly targets: Array<number>
}

/** The segments' tokens, cut at `maxLength`; answer/document tokens are targets. */
export const encodeUnit = (tokenizer: WordTokenizer, unit: Unit, maxLength: number): EncodedUnit => {
  const ids: Array<number> = [], targets: Array<number> = []
  for (const s of unit.segments) {
    for (const id of tokenizer.encode(s.text)) {
      ids.push(id)
      targets.push(s.scored ? 1 : 0)
    }
  }
  return { ids: ids.slice(0, maxLength), targets: targets.slice(0, maxLength) }
}

/**
 * Concatenates units, in a seeded shuffled order, and cuts the stream into sequences of
 * `maxLength` tokens that start with `<bos>`, as LM pre-training packs documents: a unit that does
 * not fit is continued in the next sequence. Every unit's tokens then land at every position of the
 * context over the epochs; packing whole units instead would pin long units (a document's questions
 * and the document, ≈ one context long) to fixed positions, so a learned position would tell the
 * model "questions here, document text there" and k-shot prompts, whose question sits where
 * documents were seen, would be continued as documents.
 */
export const packUnits = (units: ReadonlyArray<EncodedUnit>, maxLength: number, rng: Rng): Array<EncodedUnit> => {
  const packed: Array<EncodedUnit> = []
  let ids: Array<number> = [BOS], targets: Array<number> = [0]
  for (const i of rng.permutation(units.length)) {
    const u = units[i]!
    for (let at = 0; at < u.ids.length; ) {
      const take = Math.min(maxLength - ids.length, u.ids.length - at)
      ids.push(...u.ids.slice(at, at + take))
      targets.push(...u.targets.slice(at, at + take))
      at += take
      if (ids.length === maxLength) {
        packed.push({ ids, targets })
        ids = [BOS]
        targets = [0]
      }
    }
  }
  if (ids.length > 1) packed.push({ ids, targets })
  return packed
}

export const decoderConfig = (size: ModelSize, vocabSize: number): DecoderConfig => ({
  vocabSize,
  hiddenSize: size.hiddenSize,
  numLayers: size.numLayers,
  numHeads: size.numHeads,
  intermediateSize: size.intermediateSize,
  maxPositions: size.maxPositions,
  layerNormEps: 1e-5,
  activation: "gelu_tanh",
  tiedLmHead: true
})

const copyOf = (base: Gpt2Decoder, config: DecoderConfig): Gpt2Decoder => {
  for (const key of Object.keys(config) as Array<keyof DecoderConfig>) {
    if (base.config[key] !== config[key]) throw new Error(`trainCausalLm: the base model's ${key} is ${String(base.config[key])}, the options give ${String(config[key])}`)
  }
  const model = new Gpt2Decoder(config)
  const from = base.allParams()
  model.allParams().forEach((p, i) => p.value.set(from[i]!.value))
  return model
}

export const trainCausalLm = (
  curriculum: Curriculum,
  tokenizer: WordTokenizer,
  options: TrainOptions
): { model: Gpt2Decoder; phases: Array<PhaseReport> } => {
  const config = decoderConfig(options, tokenizer.size)
  const model = options.base ? copyOf(options.base, config) : Gpt2Decoder.random(config, options.seed)
  const rng = new Rng(options.seed + 1)
  const encoded = curriculum.phases.map((p) => p.units.map((u) => encodeUnit(tokenizer, u, options.maxPositions - 1)))
  // Progress total: an estimate from the token counts (packing leaves a little room per sequence).
  const tokensOf = (i: number) => encoded[i]!.reduce((a, u) => a + u.ids.length, 0)
  const total = curriculum.phases.reduce((a, p, i) => a + p.epochs * Math.ceil(tokensOf(i) / options.maxPositions / options.batchSize), 0)
  let done = 0
  const phases: Array<PhaseReport> = []
  curriculum.phases.forEach((phase, pi) => {
    const units = encoded[pi]!
    if (units.length === 0 || phase.epochs === 0) {
      phases.push({ name: phase.name, epochs: phase.epochs, units: units.length, steps: 0, tokensPerEpoch: 0, scoredTokensPerEpoch: 0, firstEpochLoss: NaN, lastEpochLoss: NaN })
      return
    }
    // The packing of every epoch is drawn up front, so the schedule knows the exact step count.
    const epochs = Array.from({ length: phase.epochs }, () => packUnits(units, options.maxPositions, rng))
    const steps = epochs.reduce((a, e) => a + Math.ceil(e.length / options.batchSize), 0)
    const peakLr = pi === 0 ? options.lr : (options.continuationLr ?? options.lr)
    const optimizer = new AdamW(model.params(), { lr: peakLr, weightDecay: options.weightDecay })
    const lr = learningRateSchedule({ peakLr, totalSteps: steps, warmupSteps: Math.floor(steps * options.warmupRatio), decay: "cosine", minLr: peakLr * 0.1 })
    let step = 0, firstEpochLoss = NaN, lastEpochLoss = NaN
    for (const [epoch, sequences] of epochs.entries()) {
      let lossSum = 0, tokenSum = 0
      for (let start = 0; start < sequences.length; start += options.batchSize) {
        const chosen = sequences.slice(start, start + options.batchSize)
        const batch = padBatch(chosen.map((u) => u.ids), { padId: PAD })
        const targetMask = new Uint8Array(batch.batch * batch.seqLen)
        chosen.forEach((u, b) => u.targets.forEach((t, s) => (targetMask[b * batch.seqLen + s] = t)))
        optimizer.zeroGrad()
        const { loss, tokens } = model.languageModelLoss(batch, { train: true, rng }, true, targetMask)
        if (!Number.isFinite(loss)) throw new Error(`trainCausalLm: loss is ${loss} at step ${step} of phase "${phase.name}"`)
        clipGradNorm(model.params(), 1)
        optimizer.step(lr(step))
        step++
        lossSum += loss * tokens
        tokenSum += tokens
        options.onStep?.(++done, Math.max(done, total))
      }
      if (epoch === 0) firstEpochLoss = lossSum / tokenSum
      lastEpochLoss = lossSum / tokenSum
    }
    const tokensPerEpoch = units.reduce((a, u) => a + u.ids.length, 0)
    const scoredTokensPerEpoch = units.reduce((a, u) => a + u.targets.reduce((b, t) => b + t, 0), 0)
    phases.push({ name: phase.name, epochs: phase.epochs, units: units.length, steps, tokensPerEpoch, scoredTokensPerEpoch, firstEpochLoss, lastEpochLoss })
    options.onPhaseEnd?.(pi, model)
  })
  return { model, phases }
}
