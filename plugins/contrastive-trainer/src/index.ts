export * as EmbeddingCache from "./EmbeddingCache.js"
export { type Floats, type InfoNceResult, maskedInfoNce } from "./Objective.js"
export {
  batchLoss,
  type EpochRecord,
  type HeadOptions,
  makeHead,
  objective,
  train,
  type TrainingBatch,
  type TrainOptions,
  type TrainResult
} from "./Trainer.js"
