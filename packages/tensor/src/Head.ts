/**
 * The contract every trainable head implements, the serialised form of its weights, and the
 * description of its math that ONNX export (and any other backend) interprets.
 */
import { type Matrix } from "./Matrix.js"

/** A trainable tensor with its gradient accumulator (same length, same layout). */
export interface Parameter {
  /** Unique within its head, e.g. "weight", "bias", "down". */
  readonly name: string
  /** Row-major shape, e.g. [inputDim, outputDim]. */
  readonly shape: ReadonlyArray<number>
  readonly value: Float32Array
  readonly grad: Float32Array
  /** Whether AdamW applies weight decay (false for biases). */
  readonly decay: boolean
}

export type HeadKind = "linear" | "low-rank-residual" | "mlp"
export type Activation = "relu" | "gelu"

/**
 * One step of a head's math on a batch x (rows = examples). Weights are named in `HeadGraph.weights`.
 * - matmul: x·W with W stored [in, out]
 * - addBias: x + b (broadcast over rows)
 * - relu / gelu: element-wise (gelu is the tanh approximation)
 * - residual: x + scale · body(x)
 */
export type HeadStep =
  | { readonly op: "matmul"; readonly weight: string }
  | { readonly op: "addBias"; readonly bias: string }
  | { readonly op: "relu" }
  | { readonly op: "gelu" }
  | { readonly op: "residual"; readonly scale: number; readonly body: ReadonlyArray<HeadStep> }

export interface HeadGraph {
  readonly kind: HeadKind
  readonly inputDim: number
  readonly outputDim: number
  /** Human-readable formula, e.g. "y = x·W + b". */
  readonly formula: string
  readonly steps: ReadonlyArray<HeadStep>
  /** Current weights by name (views, not copies). */
  readonly weights: Readonly<Record<string, { readonly shape: ReadonlyArray<number>; readonly data: Float32Array }>>
}

/** Serialised weights: little-endian float32 in base64 (exact round trip, ~1.33 bytes per byte). */
export interface TensorJson {
  readonly shape: ReadonlyArray<number>
  readonly dtype: "float32"
  readonly base64: string
}

export interface HeadJson {
  readonly format: "embedflow.head/v1"
  readonly kind: HeadKind
  readonly config: Readonly<Record<string, number | string | boolean>>
  readonly weights: Readonly<Record<string, TensorJson>>
}

export interface Head {
  readonly kind: HeadKind
  readonly inputDim: number
  readonly outputDim: number
  /** y = head(x) for a batch (x: n x inputDim); keeps what backward needs (x is referenced, not copied). */
  forward(x: Matrix): Matrix
  /** y = head(x) without keeping anything (inference). */
  predict(x: Matrix): Matrix
  /** Given dL/dy for the last forward, accumulates dL/dθ into the parameter grads and returns dL/dx. */
  backward(dY: Matrix): Matrix
  params(): ReadonlyArray<Parameter>
  grads(): ReadonlyArray<Float32Array>
  zeroGrad(): void
  describe(): HeadGraph
  toJSON(): HeadJson
}

/** What every head derives from its parameter list: the gradient views and resetting them. */
export abstract class ParameterizedHead {
  abstract params(): ReadonlyArray<Parameter>

  grads(): ReadonlyArray<Float32Array> {
    return this.params().map((p) => p.grad)
  }

  zeroGrad(): void {
    for (const p of this.params()) p.grad.fill(0)
  }
}
