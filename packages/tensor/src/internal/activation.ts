/** GELU, tanh approximation (GPT-2; ONNX Gelu approximate="tanh"): exact closed-form derivative. */
const C = Math.sqrt(2 / Math.PI)
const K = 0.044715

export const gelu = (x: number): number => 0.5 * x * (1 + Math.tanh(C * (x + K * x * x * x)))

export const geluGrad = (x: number): number => {
  const t = Math.tanh(C * (x + K * x * x * x))
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * C * (1 + 3 * K * x * x)
}
