// Loads the built @embedflow/tensor (dist, as an installed app would), runs one matmul on whatever
// backend this runtime selects, and prints the result as one JSON line. The same file runs under
// Node, Bun and Deno so the test can compare them; env vars (EMBEDFLOW_BACKEND, EMBEDFLOW_THREADS,
// EMBEDFLOW_TENSOR_ADDON) come from the caller.
const { getBackend, matmul, matmulABt, matrix } = await import(new URL("../../dist/index.js", import.meta.url).href)

const fill = (n, seed) => {
  let s = seed
  return Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5)
}
const runtime = typeof Bun !== "undefined" ? "bun" : typeof Deno !== "undefined" ? "deno" : "node"
const m = 37, k = 29, n = 41
// A view at a byte offset into a larger buffer, as head slices are.
const a = matrix(m, k, fill(m * k + 13, 1).subarray(13))
const b = matrix(k, n, fill(k * n, 2))
const product = matmul(a, b)
const gram = matmulABt(a, a)
const backend = getBackend()
console.log(JSON.stringify({ runtime, backend: backend.name, threads: backend.threads(), product: Array.from(product.data), gram: Array.from(gram.data) }))
