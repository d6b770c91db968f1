/**
 * @embedflow/onnx: write ONNX models from TypeScript with no dependencies.
 */
export { Attr, type AttrInput } from "./Attr.js"
export {
  GraphBuilder,
  type GraphBuilderOptions,
  irVersionForOpset,
  type ModelOptions,
  type OpOptions,
  type OutputSpec,
  tensorData,
  Value
} from "./GraphBuilder.js"
export {
  type AttributeProto,
  type AttributeValue,
  type DataType,
  DataTypeCode,
  type Dim,
  encodeModel,
  type GraphExtensionProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type OperatorSetId,
  type TensorData,
  type TensorDataOf,
  type TensorProto,
  validateTensor,
  type ValueInfoProto
} from "./Proto.js"
export {
  type ExtendOptions,
  extendModel,
  extensionBuilder,
  inspectModel,
  modelExtension,
  type ModelSummary,
  type NodeSummary,
  opsetOf,
  producerOf,
  type ValueSummary
} from "./ModelExtension.js"
