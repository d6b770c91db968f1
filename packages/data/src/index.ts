import { Plugin } from "@embedflow/core"
import { irCollection, snliTriples, stsB } from "./Stages.js"
import { loadStages } from "./LoadStages.js"
import { labelledSet, snliPairs } from "./TaskStages.js"

export * as AgNews from "./AgNews.js"
export { type DataError, DataFormatError, DataReadError } from "./DataError.js"
export * as DataRoot from "./DataRoot.js"
export type { LoadOptions } from "./DataRoot.js"
export * as IrCollection from "./IrCollection.js"
export type { CranfieldSource, IrLoadOptions } from "./IrCollection.js"

export * as Snli from "./Snli.js"
export * as Sst2 from "./Sst2.js"
export * as StsB from "./StsB.js"
export * as Trec from "./Trec.js"
export { loadBeir, type BeirCollection } from "./Beir.js"
export * as ColumnMapping from "./ColumnMapping.js"
export * as LoadData from "./LoadData.js"
export { DataFileError, DataRowError, type Loaded, type LoadError, type LoadReport } from "./LoadData.js"
export {
  loadBeirStage,
  loadCandidates,
  loadLabelled,
  loadPairs,
  loadQrels,
  loadScoredPairs,
  loadStages,
  loadTexts,
  loadTriples
} from "./LoadStages.js"
export { capPerLabel, labelledExamples, LabelledSet, snliPairLabels } from "./TaskSets.js"
export { labelledSet, snliPairs } from "./TaskStages.js"
export { dataSetFolders } from "./DataSetFolders.js"
export { irCollection, snliTriples, stsB } from "./Stages.js"

export const plugin = Plugin.make({
  name: "data",
  version: "0.1.0",
  description: "public evaluation and training sets as pipeline inputs",
  stages: [stsB, snliTriples, irCollection, labelledSet, snliPairs, ...loadStages]
})
