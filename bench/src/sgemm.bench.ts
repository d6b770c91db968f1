/**
 * sgemm throughput of @embedflow/tensor's `matmul` (C = A·B into a preallocated C, the call the
 * layers make) on each backend, against PyTorch CPU's torch.mm(out=) (bench/py/sgemm.py) at the same
 * thread count, in alternating windows of this run. Shapes: 192x384x384 (a Linear 384 head over a
 * 64 + 64 + 64 batch) and 1024x1024x1024. The TypeScript backend is single-threaded: 1 thread only.
 *
 *   node --conditions=source --import tsx bench/src/sgemm.bench.ts [seconds-per-window=0.3]
 */
import { type Backend, loadNativeBackend, matmul, matrix, Rng, setBackend, tsBackend } from "@embedflow/tensor"
import { compare, TorchPeer } from "./torchPeer.js"

const seconds = Number(process.argv[2] ?? 0.3)
const shapes = [[192, 384, 384], [1024, 1024, 1024]] as const
const rng = new Rng(7)
const operands = shapes.map(([m, n, k]) => ({
  name: `${m}x${n}x${k}`,
  flops: 2 * m * n * k,
  a: matrix(m, k, rng.fillNormal(new Float32Array(m * k))),
  b: matrix(k, n, rng.fillNormal(new Float32Array(k * n))),
  c: matrix(m, n)
}))

let native: Backend | undefined
try {
  native = loadNativeBackend()
} catch (error) {
  console.log(`native backend unavailable (${(error as Error).message}); measuring the TypeScript backend only`)
}
console.log(`sgemm C = A·B (matmul with out), best of 5 alternating ${seconds}s windows; ${[native?.description, tsBackend.description].filter(Boolean).join("; ")}`)

for (const threads of [1, 2]) {
  const peer = await TorchPeer.start("sgemm.py", threads, operands.map((o) => o.name))
  native?.setThreads(threads)
  const runs: Array<Backend> = [...(native ? [native] : []), ...(threads === 1 ? [tsBackend] : [])]
  for (const op of operands) {
    for (const backend of runs) {
      setBackend(backend)
      // One TypeScript 1024³ product takes ~0.4 s: a single window is enough to rank it.
      const slow = backend === tsBackend && op.flops > 1e9
      const r = await compare(() => matmul(op.a, op.b, { out: op.c }), peer, op.name, slow ? 2 : seconds, slow ? 1 : 3)
      const ours = (r.ours * op.flops) / 1e9
      const theirs = r.peer === undefined ? undefined : (r.peer * op.flops) / 1e9
      console.log(
        `  sgemm ${op.name.padEnd(14)} threads=${threads} ${backend.name.padEnd(6)} ${ours.toFixed(1).padStart(6)} GFLOP/s` +
          (theirs === undefined ? "  PyTorch: skipped" : `  PyTorch ${peer!.torchVersion} ${theirs.toFixed(1).padStart(6)} GFLOP/s  ratio ${(ours / theirs).toFixed(2)}x`)
      )
    }
  }
  peer?.close()
}
