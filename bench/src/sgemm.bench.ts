/**
 * sgemm throughput of @embedflow/tensor's `matmul` (C = A·B into a preallocated C, the call the
 * layers make) on each backend, against PyTorch CPU's torch.mm(out=) (bench/py/sgemm.py) at the same
 * thread count, in alternating windows of this run. Shapes: 192x384x384 (a Linear 384 head over a
 * 64 + 64 + 64 batch) and 1024x1024x1024. The TypeScript backend is single-threaded: 1 thread only.
 * The other BLAS candidate, onnxruntime's MLAS, has no C API of its own: it is measured as what a
 * TypeScript caller can reach, a one-node MatMul graph in onnxruntime-node (intra-op threads = the
 * thread count, B as an initializer, A fed and C preallocated), so its line includes the run overhead.
 *
 *   node --conditions=source --import tsx bench/src/sgemm.bench.ts [seconds-per-window=0.3]
 */
import { GraphBuilder } from "@embedflow/onnx"
import { type Backend, loadNativeBackend, matmul, matrix, Rng, setBackend, tsBackend } from "@embedflow/tensor"
import * as ort from "onnxruntime-node"
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
    const line = (name: string, perSecond: number, peerPerSecond: number | undefined) => {
      const ours = (perSecond * op.flops) / 1e9
      const theirs = peerPerSecond === undefined ? undefined : (peerPerSecond * op.flops) / 1e9
      console.log(
        `  sgemm ${op.name.padEnd(14)} threads=${threads} ${name.padEnd(6)} ${ours.toFixed(1).padStart(6)} GFLOP/s` +
          (theirs === undefined ? "  PyTorch: skipped" : `  PyTorch ${peer!.torchVersion} ${theirs.toFixed(1).padStart(6)} GFLOP/s  ratio ${(ours / theirs).toFixed(2)}x`)
      )
    }
    for (const backend of runs) {
      setBackend(backend)
      // One TypeScript 1024³ product takes ~0.4 s: a single window is enough to rank it.
      const slow = backend === tsBackend && op.flops > 1e9
      const r = await compare(() => void matmul(op.a, op.b, { out: op.c }), peer, op.name, slow ? 2 : seconds, slow ? 1 : 5)
      line(backend.name, r.ours, r.peer)
    }
    const [m, k] = [op.a.rows, op.a.cols]
    const g = new GraphBuilder("sgemm")
    g.output(g.op("MatMul", [g.input("a", "float32", [m, k]), g.initializer("b", op.b.data, [k, op.b.cols])]), { name: "c" })
    const session = await ort.InferenceSession.create(g.toModel({ opset: 17 }), { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: "sequential" })
    const feeds = { a: new ort.Tensor("float32", op.a.data, [m, k]) }
    const fetches = { c: new ort.Tensor("float32", op.c.data, [m, op.b.cols]) }
    const r = await compare(() => session.run(feeds, fetches), peer, op.name, seconds, 5, true)
    line("mlas", r.ours, r.peer)
    await session.release()
  }
  peer?.close()
}
