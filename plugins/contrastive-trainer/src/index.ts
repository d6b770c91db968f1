import { Plugin } from "@embedflow/core"
import { ModelHub } from "@embedflow/models"
import { embed, train } from "./Stages.js"

export * as EmbeddingCache from "./EmbeddingCache.js"
export { HEAD_FILE, HEAD_ONNX, type HeadEncoderConfig, readHeadConfig, writeEncoderFolder } from "./EncoderFolder.js"
export { type HeadEncoder, loadHeadEncoder, withHead } from "./HeadEncoder.js"
export { type Floats, type InfoNceResult, maskedInfoNce } from "./Objective.js"
export { embed, train } from "./Stages.js"
export {
  batchLoss,
  type EpochRecord,
  type HeadOptions,
  makeHead,
  objective,
  train as trainHead,
  type TrainingBatch,
  type TrainOptions,
  type TrainResult
} from "./Trainer.js"

export const plugin = Plugin.make({
  name: "contrastive-trainer",
  version: "0.1.0",
  description: "MultiCSR stage 4: masked supervised InfoNCE training of a head over a frozen encoder, and embedding with the result",
  layer: ModelHub.layer,
  stages: [train, embed]
})
