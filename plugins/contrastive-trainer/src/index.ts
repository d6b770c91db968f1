import { Plugin } from "@embedflow/core"
import { ModelHub } from "@embedflow/models"
import { train } from "./Stages.js"

export { HEAD_FILE, type HeadEncoderConfig, readHeadConfig, TOKEN_DELTA_FILE, writeEncoderFolder } from "./EncoderFolder.js"
export { train } from "./Stages.js"
export {
  batchLoss,
  type EpochRecord,
  type HeadOptions,
  makeHead,
  objective,
  train as trainHead,
  type TrainingBatch,
  type TrainOptions,
  type TrainResult,
  type WordVectorOptions
} from "./Trainer.js"

export const plugin = Plugin.make({
  name: "contrastive-trainer",
  version: "0.1.0",
  description: "MultiCSR stage 4: masked supervised InfoNCE training of a head over a frozen encoder, exported as one ONNX encoder (embed it with models/embed)",
  layer: ModelHub.layer,
  stages: [train]
})
