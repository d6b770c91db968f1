export * as ArtifactFormat from "./ArtifactFormat.js"
export type { DirectoryRef, Vectors } from "./ArtifactFormat.js"
export {
  ArtifactCorruptError,
  ArtifactError,
  ArtifactStore,
  type GcReport,
  layerFileSystem,
  makeFileSystem,
  type Manifest
} from "./ArtifactStore.js"
export type { ContentDigest } from "./internal/contentHash.js"
export * as Plan from "./Plan.js"
export * as Graph from "./Graph.js"
export { formatProblem, type GraphProblem, GraphValidationError } from "./GraphError.js"
export { GraphSpec, NodeSpec } from "./GraphSpec.js"
export * as Plugin from "./Plugin.js"
export * as PortType from "./PortType.js"
// The port interface as a top-level name, so declaration emit can name the type Stage.make returns.
export type { PortType as Port, PortValue } from "./PortType.js"
export * as Ports from "./Ports.js"
export type { RunEvent, RunEventListener } from "./RunEvent.js"
export * as Runner from "./Runner.js"
export { type NodeFailure, RunFailedError } from "./Runner.js"
export * as Stage from "./Stage.js"
export type { AnyStage, PlanContext } from "./Stage.js"
export { log, metric, progress, StageContext } from "./StageContext.js"
export { StageError, type StageFailure } from "./StageError.js"
export { StageExecutor } from "./StageExecutor.js"
export { executeTask, type ShardInfo, type StageTask, type TaskEvent, type TaskEventSink } from "./StageTask.js"
export * as Shards from "./Shards.js"
export { makeTaskHost, type TaskHost } from "./TaskHost.js"
export { runStageOnce } from "./StageHarness.js"
export type { ShardSpec } from "./Stage.js"
export * as Params from "./Params.js"
export { NonNegative, NonNegativeInt, PositiveInt, PositiveNumber, Probability, withDefault } from "./Params.js"
export { deriveSeed } from "./internal/canonicalJson.js"
export { writeFileAtomic } from "./internal/atomicFs.js"
