import { Plugin } from "@embedflow/core"
import { biographies, compare, curriculum, evaluateQa, pretrainingCurriculumStage, trainLm } from "./Stages.js"

export * as Biographies from "./Biographies.js"
export { buildCurriculum, type Curriculum, pretrainingCurriculum, type Method, methods, type PitLayout, pitLayouts } from "./Curriculum.js"
export { trainCausalLm } from "./CausalLmTrainer.js"
export { documentLoss, documentRecall, type DocumentRecallReport, factPrompts } from "./DocumentRecall.js"
export { exactMatch, exactMatchScore, normalizeAnswer } from "./ExactMatch.js"
export { answerStopWords, evaluateKShot, kShotPrompt } from "./KShotQa.js"
export { loadModelFolder, saveModelFolder } from "./ModelFolder.js"
export { defaultSettings, mergeSettings, pretrainedBase, type ReplicationRun, type ReplicationSettings, runReplication, type SettingsOverride } from "./Replication.js"
export { WordTokenizer } from "./WordTokenizer.js"
export { CurriculumPort, QaPairs } from "./PitPorts.js"
export { biographies, compare, curriculum, evaluateQa, pretrainingCurriculumStage, trainLm } from "./Stages.js"

export const plugin = Plugin.make({
  name: "pit",
  version: "0.1.0",
  description: "Pre-Instruction-Tuning (Jiang et al., ACL 2024): synthetic biographies, the compared curricula, a small GPT trained from scratch, k-shot exact-match QA",
  stages: [biographies, curriculum, pretrainingCurriculumStage, trainLm, evaluateQa, compare]
})
