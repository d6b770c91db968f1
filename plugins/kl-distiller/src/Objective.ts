/**
 * LLM-R's distillation objective for one batch, on the student's (head-projected) vectors:
 *
 *   L = KL(p_teacher || p_student) + alpha * InfoNCE
 *
 * - per query i with candidates c_i1..c_im and teacher rewards r_ij:
 *   p_teacher = softmax(r_i / tauTeacher), p_student = softmax(cos(q_i, c_ij) / tauStudent),
 *   KL averaged over queries;
 * - InfoNCE with in-batch negatives: query i against its positive (its best-rewarded candidate),
 *   logits cos(q_i, c) / tauContrastive; the negatives are every candidate in the batch (LLM-R:
 *   the other queries' positives and every retrieved candidate, the hard negatives), or with
 *   `negatives: "positives"` only the other queries' positives. A candidate with the same id as
 *   query i's positive is masked out as a false negative.
 *
 * Gradients are analytic with respect to the unnormalised vectors, so the caller backpropagates them
 * through its head. Computed by packages/tensor's cosineMatrix, klDivergence and infoNce (float32
 * storage); test/reference.ts keeps a float64 transcription that the tests check it against.
 */
import { cosineMatrix, cosineMatrixBackward, infoNce, klDivergence, matrix } from "@embedflow/tensor"

export interface ObjectiveBatch {
  readonly dim: number
  /** [queries x dim] student query vectors (before L2 normalisation). */
  readonly queries: ArrayLike<number>
  /** [candidates x dim] student candidate vectors, the candidates of query i in [offsets[i], offsets[i+1]). */
  readonly candidates: ArrayLike<number>
  /** queries + 1 entries, offsets[0] = 0. */
  readonly offsets: ArrayLike<number>
  /** Teacher score of each candidate (reward model output or LLM log-likelihood). */
  readonly rewards: ArrayLike<number>
  /** Row (into `candidates`) of each query's positive. */
  readonly positives: ArrayLike<number>
  /** Identity of each query's positive, to mask duplicates among in-batch negatives. */
  readonly positiveIds: ReadonlyArray<string>
  /** Identity of every candidate (same order as `candidates`); needed with negatives "all". */
  readonly candidateIds?: ReadonlyArray<string>
}

export interface ObjectiveOptions {
  readonly tauTeacher: number
  readonly tauStudent: number
  readonly tauContrastive: number
  /** Weight of the InfoNCE term (0 = pure distillation). */
  readonly alpha: number
  /** InfoNCE negatives: every candidate in the batch (LLM-R, default) or only the other queries' positives. */
  readonly negatives?: "all" | "positives"
}

export interface ObjectiveResult {
  readonly loss: number
  readonly kl: number
  readonly infoNce: number
  /** dL/dqueries, same layout as `queries`. */
  readonly gradQueries: Float32Array
  /** dL/dcandidates, same layout as `candidates`. */
  readonly gradCandidates: Float32Array
}

/**
 * The batch's loss through tensor's kernels: S = cosineMatrix(queries, candidates); the KL term is
 * klDivergence over S with every column outside query i's own candidates masked; the InfoNCE term is
 * infoNce over S with each query's positive as its target and only the other queries' positives
 * (less those with the same id) left unmasked. One cosineMatrixBackward takes both terms' gradients
 * to the unnormalised vectors.
 */
export const objective = (batch: ObjectiveBatch, options: ObjectiveOptions): ObjectiveResult => {
  const { dim } = batch
  const nq = batch.offsets.length - 1
  const nc = batch.offsets[nq]!
  if (batch.queries.length !== nq * dim) throw new Error(`objective: ${batch.queries.length} query floats, expected ${nq}x${dim}`)
  if (batch.candidates.length !== nc * dim) throw new Error(`objective: ${batch.candidates.length} candidate floats, expected ${nc}x${dim}`)
  const cos = cosineMatrix(matrix(nq, dim, Float32Array.from(batch.queries)), matrix(nc, dim, Float32Array.from(batch.candidates)))

  // KL(p_teacher || p_student) per query over its own candidates.
  const teacher = matrix(nq, nc)
  const own = new Uint8Array(nq * nc).fill(1)
  for (let i = 0; i < nq; i++) {
    for (let j = batch.offsets[i]!; j < batch.offsets[i + 1]!; j++) {
      teacher.data[i * nc + j] = batch.rewards[j]!
      own[i * nc + j] = 0
    }
  }
  const kl = klDivergence(cos.scores, teacher, { studentTemperature: options.tauStudent, teacherTemperature: options.tauTeacher, mask: own })
  const dScores = kl.grad

  // InfoNCE with in-batch negatives: query i against every query's positive.
  let infoNceLoss = 0
  if (options.alpha !== 0 && nq > 0) {
    const inBatch = new Uint8Array(nq * nc).fill(1)
    if ((options.negatives ?? "all") === "all") {
      const ids = batch.candidateIds
      if (ids === undefined || ids.length !== nc) throw new Error(`objective: negatives "all" needs candidateIds for the ${nc} candidates`)
      for (let i = 0; i < nq; i++) {
        const own = batch.positives[i]!
        for (let c = 0; c < nc; c++) if (c === own || ids[c] !== batch.positiveIds[i]) inBatch[i * nc + c] = 0
      }
    } else {
      for (let i = 0; i < nq; i++) {
        for (let j = 0; j < nq; j++) {
          const duplicate = j !== i && batch.positiveIds[j] === batch.positiveIds[i]
          if (!duplicate) inBatch[i * nc + batch.positives[j]!] = 0
        }
      }
    }
    const nce = infoNce(cos.scores, { temperature: options.tauContrastive, positives: batch.positives, mask: inBatch })
    infoNceLoss = nce.loss
    for (let k = 0; k < dScores.data.length; k++) dScores.data[k] = dScores.data[k]! + options.alpha * nce.grad.data[k]!
  }

  const { dA, dB } = cosineMatrixBackward(cos, dScores)
  return { loss: kl.loss + options.alpha * infoNceLoss, kl: kl.loss, infoNce: infoNceLoss, gradQueries: dA.data, gradCandidates: dB.data }
}
