import type { StageFailure } from "@embedflow/core"
import {
  AdamW, EarlyStopping, type Head, learningRateSchedule, Linear, LowRankResidualAdapter, type Matrix, matrix, pairInfoNce, Rng, sliceRows, type TokenBags, TokenDelta
} from "@embedflow/tensor"
import { Effect } from "effect"

/** One batch as the head sees it: frozen embeddings of its anchors then its candidates. */
export interface TrainingBatch {
  readonly rows: number
  readonly cols: number
  /** [(rows + cols) x dim]: anchors, then positives, then hard negatives. */
  readonly x: Float32Array
  /** [rows x cols], 1 = left out of the anchor's softmax; undefined = no masking. */
  readonly mask: Uint8Array | undefined
  /** The token bags of the rows of `x` (same order), for training word vectors (`TrainOptions.wordVectors`). */
  readonly bags?: TokenBags | undefined
}

export type HeadOptions = { readonly kind: "linear" } | { readonly kind: "adapter"; readonly rank: number }

/** A head that starts as the identity, so epoch 0 is exactly the frozen encoder. */
export const makeHead = (options: HeadOptions, dim: number, seed: number): Head =>
  options.kind === "linear"
    ? Linear.make({ inputDim: dim, outputDim: dim, init: "identity" })
    : LowRankResidualAdapter.make({ dim, rank: options.rank, seed })

/** Fine-tuning the backbone's word vectors too (bag-of-vectors backbones; batches carry `bags`). */
export interface WordVectorOptions {
  /** Token ids that get a trainable delta (those of the training texts). */
  readonly tokens: Iterable<number>
  /** Peak learning rate of the deltas (same warmup and decay as the head's). */
  readonly lr: number
}

export interface TrainOptions {
  readonly head: HeadOptions
  readonly wordVectors?: WordVectorOptions | undefined
  readonly temperature: number
  readonly lr: number
  readonly weightDecay: number
  /** Fraction of all steps spent warming the learning rate up from 0. */
  readonly warmupRatio: number
  readonly epochs: number
  readonly seed: number
  /** Stop after this many epochs without a better dev score (only with `evaluate`). */
  readonly patience: number
  /** Dev score of a head (higher is better), e.g. STS-B dev Spearman; also run before training. */
  readonly evaluate?: ((head: Head, tokenDelta: TokenDelta | undefined) => Effect.Effect<number, StageFailure>) | undefined
  readonly onStep?: ((step: number, total: number, loss: number) => Effect.Effect<void>) | undefined
  readonly onEpoch?: ((record: EpochRecord) => Effect.Effect<void>) | undefined
}

export interface EpochRecord {
  /** 0 is the untrained (identity) head. */
  readonly epoch: number
  /** Epoch 0: the objective; later: the mean loss over the epoch's steps. */
  readonly trainLoss: number
  readonly dev?: number | undefined
  readonly lr: number
}

export interface TrainResult {
  /** The head of the best dev epoch (the last epoch without `evaluate`). */
  readonly head: Head
  /** The word-vector deltas of that epoch (with `wordVectors`). */
  readonly tokenDelta: TokenDelta | undefined
  readonly history: ReadonlyArray<EpochRecord>
  readonly bestEpoch: number
  readonly stoppedEarly: boolean
}

/** The batch's rows with the word-vector deltas added (unchanged without deltas). */
const withDeltas = (x: Matrix, batch: TrainingBatch, tokenDelta: TokenDelta | undefined, update: boolean): Matrix => {
  if (tokenDelta === undefined) return x
  if (batch.bags === undefined) throw new Error("training word vectors needs the token bags of every batch")
  return update ? tokenDelta.forward(x, batch.bags) : tokenDelta.predict(x, batch.bags)
}

/**
 * One batch's loss; with `update`, its gradient is accumulated into the head's parameters (and the
 * word-vector deltas', when given).
 */
export const batchLoss = (head: Head, batch: TrainingBatch, dim: number, temperature: number, update: boolean, tokenDelta?: TokenDelta): number => {
  const n = batch.rows + batch.cols
  const x = withDeltas(matrix(n, dim, batch.x), batch, tokenDelta, update)
  const y = update ? head.forward(x) : head.predict(x)
  // Supervised SimCSE InfoNCE: anchor i against its positive (candidate i), the other positives and the hard negatives.
  const r = pairInfoNce(sliceRows(y, 0, batch.rows), sliceRows(y, batch.rows, n), { temperature, mask: batch.mask })
  if (update) {
    const { dAnchors, dCandidates } = r.backward()
    const dy = matrix(n, dim)
    dy.data.set(dAnchors.data, 0)
    dy.data.set(dCandidates.data, dAnchors.data.length)
    const dx = head.backward(dy)
    tokenDelta?.backward(dx)
  }
  return r.loss
}

/** Mean loss over the batches, weighted by anchors: the training objective. */
export const objective = (head: Head, batches: ReadonlyArray<TrainingBatch>, dim: number, temperature: number, tokenDelta?: TokenDelta): number => {
  let sum = 0
  let n = 0
  for (const b of batches) {
    sum += batchLoss(head, b, dim, temperature, false, tokenDelta) * b.rows
    n += b.rows
  }
  return n === 0 ? Number.NaN : sum / n
}

/**
 * Trains a head with masked InfoNCE, AdamW and linear warmup then linear decay; batch order is
 * reshuffled each epoch from the seed. With `evaluate`, keeps the best dev epoch's weights (the
 * identity head counts as epoch 0) and stops after `patience` epochs without improvement. With
 * `wordVectors`, per-token deltas of the backbone's word vectors train alongside the head (own
 * AdamW without weight decay, own peak learning rate, the same schedule).
 */
export const train = (batches: ReadonlyArray<TrainingBatch>, dim: number, options: TrainOptions): Effect.Effect<TrainResult, StageFailure> =>
  Effect.gen(function* () {
    if (batches.length === 0) return yield* Effect.die(new Error("train: no batches"))
    const head = makeHead(options.head, dim, options.seed)
    const tokenDelta = options.wordVectors ? TokenDelta.make({ tokens: options.wordVectors.tokens, dim }) : undefined
    const params = [...head.params(), ...(tokenDelta?.params() ?? [])]
    const total = options.epochs * batches.length
    const schedule = learningRateSchedule({ peakLr: options.lr, totalSteps: total, warmupSteps: Math.min(total, Math.round(options.warmupRatio * total)) })
    const optimizer = new AdamW(head.params(), { lr: options.lr, weightDecay: options.weightDecay })
    const deltaOptimizer = tokenDelta ? new AdamW(tokenDelta.params(), { lr: options.wordVectors!.lr, weightDecay: 0 }) : undefined
    const deltaLrRatio = options.wordVectors ? options.wordVectors.lr / options.lr : 0
    const stopping = new EarlyStopping({ patience: options.patience, mode: "max" })
    const history: Array<EpochRecord> = []
    let bestEpoch = 0
    let stoppedEarly = false

    const initialDev = options.evaluate ? yield* options.evaluate(head, tokenDelta) : undefined
    const initial: EpochRecord = { epoch: 0, trainLoss: objective(head, batches, dim, options.temperature, tokenDelta), ...(initialDev === undefined ? {} : { dev: initialDev }), lr: 0 }
    history.push(initial)
    if (initialDev !== undefined) stopping.update(initialDev, params)
    if (options.onEpoch) yield* options.onEpoch(initial)

    let step = 0
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const order = new Rng((options.seed + Math.imul(epoch, 0x9e3779b1)) >>> 0).permutation(batches.length)
      let sum = 0
      let n = 0
      let lr = 0
      for (const k of order) {
        const b = batches[k]!
        head.zeroGrad()
        tokenDelta?.zeroGrad()
        const loss = batchLoss(head, b, dim, options.temperature, true, tokenDelta)
        if (!Number.isFinite(loss)) {
          return yield* Effect.die(new Error(`loss is ${loss} at epoch ${epoch}, step ${step}; lower the learning rate or raise the temperature`))
        }
        lr = schedule(step)
        optimizer.step(lr)
        deltaOptimizer?.step(lr * deltaLrRatio)
        step++
        sum += loss * b.rows
        n += b.rows
        if (options.onStep) yield* options.onStep(step, total, loss)
      }
      const dev = options.evaluate ? yield* options.evaluate(head, tokenDelta) : undefined
      const record: EpochRecord = { epoch, trainLoss: sum / n, ...(dev === undefined ? {} : { dev }), lr }
      history.push(record)
      if (options.onEpoch) yield* options.onEpoch(record)
      if (dev === undefined) {
        bestEpoch = epoch
        continue
      }
      const { improved, shouldStop } = stopping.update(dev, params)
      if (improved) bestEpoch = epoch
      if (shouldStop) {
        stoppedEarly = epoch < options.epochs
        break
      }
    }
    if (options.evaluate) stopping.restoreBest(params)
    return { head, tokenDelta, history, bestEpoch, stoppedEarly }
  })
