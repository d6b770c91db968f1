/**
 * PyTorch peers of the benches (bench/py/*.py) and the shared measurement loop. A peer script starts
 * once per thread count and serves measurement windows on request (bench/py/peer.py); the bench
 * alternates its own windows with the peer's and keeps the best of each, so both sides are measured
 * under the same load of a shared machine, and the best window is the one least disturbed by it.
 *
 * PyTorch is Debian's `python3-torch`, run with /usr/bin/python3 (not a pyenv python first on PATH).
 * Debian's torch does its sgemm in OpenBLAS (BLAS_INFO=generic), whose pool follows
 * OPENBLAS_NUM_THREADS rather than torch.set_num_threads, so both are set. Its element-wise ops run on
 * libgomp, whose default spin-waiting collapses on shared cores (measured here: 160 examples/s at 2
 * threads with the default, 5,400 with passive waiting), so the peer gets OMP_WAIT_POLICY=PASSIVE, as
 * @embedflow/faiss-index sets for its own libgomp (an explicit value is kept).
 */
import { type ChildProcessByStdio, execFileSync, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { createInterface, type Interface } from "node:readline"
import type { Readable, Writable } from "node:stream"
import { fileURLToPath } from "node:url"

const python = "/usr/bin/python3"

/** Why the peer cannot run, or undefined when `import torch` works. */
export const torchUnavailable = (): string | undefined => {
  if (!existsSync(python)) return `${python} not found`
  try {
    execFileSync(python, ["-c", "import torch"], { stdio: "pipe" })
    return undefined
  } catch {
    return `PyTorch is not importable by ${python} (apt-get install python3-torch)`
  }
}

/** Runs `f` for about `seconds`; returns calls per second. */
export const window = (f: () => void, seconds: number): number => {
  let calls = 0
  const t0 = performance.now()
  let elapsed = 0
  while (elapsed < seconds * 1000) {
    f()
    calls++
    elapsed = performance.now() - t0
  }
  return calls / (elapsed / 1000)
}

/** As `window`, for an asynchronous call (onnxruntime's session.run). */
export const windowAsync = async (f: () => Promise<unknown>, seconds: number): Promise<number> => {
  let calls = 0
  const t0 = performance.now()
  let elapsed = 0
  while (elapsed < seconds * 1000) {
    await f()
    calls++
    elapsed = performance.now() - t0
  }
  return calls / (elapsed / 1000)
}

export class TorchPeer {
  private readonly lines: AsyncIterator<string>

  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>, reader: Interface, readonly torchVersion: string) {
    this.lines = reader[Symbol.asyncIterator]()
  }

  /** Starts `bench/py/<script> <threads> ...args`; undefined (with the reason printed) when PyTorch is absent. */
  static async start(script: string, threads: number, args: ReadonlyArray<string> = []): Promise<TorchPeer | undefined> {
    const reason = torchUnavailable()
    if (reason !== undefined) {
      console.log(`  PyTorch peer skipped: ${reason}`)
      return undefined
    }
    const path = fileURLToPath(new URL(`../py/${script}`, import.meta.url))
    const env = {
      ...process.env,
      OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), PYTHONDONTWRITEBYTECODE: "1",
      OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY || "PASSIVE"
    }
    const child = spawn(python, [path, String(threads), ...args], { env, stdio: ["pipe", "pipe", "inherit"] })
    const reader = createInterface({ input: child.stdout })
    const first = await reader[Symbol.asyncIterator]().next()
    if (first.done) throw new Error(`${script} exited before it was ready`)
    const ready = JSON.parse(first.value) as { torch: string; threads: number }
    if (ready.threads !== threads) throw new Error(`${script}: torch runs ${ready.threads} threads, asked for ${threads}`)
    return new TorchPeer(child, reader, ready.torch)
  }

  /** One measurement window of `figure` in the peer (warmed up on first use); calls per second. */
  async measure(figure: string, seconds: number): Promise<number> {
    this.child.stdin.write(`${figure} ${seconds}\n`)
    const next = await this.lines.next()
    if (next.done) throw new Error(`PyTorch peer exited while measuring ${figure}`)
    return (JSON.parse(next.value) as { calls_per_s: number }).calls_per_s
  }

  close(): void {
    this.child.stdin.end()
  }
}

/**
 * Best calls per second of `f` and of the peer's `figure` over `rounds` alternating windows (after a
 * warm-up of `f`); the peer's figure is undefined without a peer. `f` may be asynchronous.
 */
export const compare = async (
  f: () => void | Promise<unknown>, peer: TorchPeer | undefined, figure: string, seconds: number, rounds = 5, isAsync = false
): Promise<{ readonly ours: number; readonly peer: number | undefined }> => {
  for (let i = 0; i < 5; i++) await f()
  let ours = 0
  let theirs: number | undefined
  for (let r = 0; r < rounds; r++) {
    ours = Math.max(ours, isAsync ? await windowAsync(f as () => Promise<unknown>, seconds) : window(f as () => void, seconds))
    if (peer) theirs = Math.max(theirs ?? 0, await peer.measure(figure, seconds))
  }
  return { ours, peer: theirs }
}
