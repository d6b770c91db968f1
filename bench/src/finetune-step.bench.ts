/**
 * Full fine-tuning step of a MiniLM-L6-shaped encoder (6 post-LN layers, hidden 384, 12 heads,
 * FFN 1536, vocab 30522; random weights), batch 32 x 32 tokens: forward with dropout 0.1 (kept
 * activations), mean pooling + L2 norm, in-batch InfoNCE (16 x 16, tau 0.05), backward through every
 * layer, AdamW over all 22.7M parameters. Reports tokens/s and peak RSS against PyTorch doing the
 * same step in the same run (finetune_step_torch.py; Debian python3-torch; EMBEDFLOW_THREADS threads
 * each, default 1), plus the GradCache variant (chunks of 8 sequences) whose peak memory should not grow with the batch.
 *
 * Each variant runs in its own process so peak RSS is its own. With --large, one more: GradCache
 * over 4x the batch (128 x 32 tokens, chunks of 8), whose peak RSS should match the batch-32 one.
 *
 *   node --conditions=source --import tsx bench/src/finetune-step.bench.ts [steps=2] [--large] [--modes]
 *
 * --modes adds the per-mode comparison of what contrastive-trainer / kl-distiller train (issue 12):
 * head (encoder forward without kept activations, a 384x384 Linear head on the pooled vector trains),
 * LoRA r=8 on q/k/v/o (base frozen; backward through every layer, only adapters step), backbone
 * (the plain step above), each against finetune_step_torch.py in the same mode, same thread count.
 *
 * The products go through @embedflow/tensor's matmul/matmulAtB/matmulABt: with the pure-TypeScript
 * kernels this is far below PyTorch; it speeds up with the native BLAS backend behind them.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import {
  AdamW, addLora, BertEncoder, cachedInfoNce, l2Normalize, l2NormalizeBackward, Linear, concatRows, cosineMatrix, cosineMatrixBackward, infoNce, Rng, SentenceEmbedder,
  sliceBatch, sliceRows, type TokenBatch
} from "@embedflow/tensor"
import { minilmL6Config } from "@embedflow/tiny-models"

const BATCH = 32, S = 32, TAU = 0.05
const here = fileURLToPath(import.meta.url)
const worker = process.argv.find((a) => a.startsWith("--worker="))?.slice("--worker=".length)
const steps = Number(process.argv.slice(2).find((a) => !a.startsWith("--")) ?? 2)
// EMBEDFLOW_THREADS sets the native backend's threads (unset: 1 here); the PyTorch peer gets the same count
if (!process.env.EMBEDFLOW_THREADS) process.env.EMBEDFLOW_THREADS = "1"
const threads = Number(process.env.EMBEDFLOW_THREADS)

interface Result {
  readonly secondsPerStep: number
  readonly tokensPerSecond: number
  readonly peakRssMiB: number
}

type Mode = "plain" | "gradcache" | "gradcache-x4" | "head" | "lora"
const MODES: ReadonlyArray<string> = ["plain", "gradcache", "gradcache-x4", "head", "lora"]

const runWorker = (mode: Mode): Result => {
  const B = mode === "gradcache-x4" ? 4 * BATCH : BATCH
  const model = BertEncoder.random({ ...minilmL6Config, hiddenDropout: 0.1, attentionDropout: 0.1 }, 0)
  if (mode === "lora") addLora(model, { rank: 8, seed: 0 })
  const embedder = new SentenceEmbedder(model, { pooling: "mean", normalize: true })
  const head = Linear.make({ inputDim: minilmL6Config.hiddenSize, outputDim: minilmL6Config.hiddenSize, seed: 0 })
  const opt = new AdamW(mode === "head" ? head.params() : embedder.params(), { lr: 1e-4, weightDecay: 0.01 })
  const rng = new Rng(1)
  const batch: TokenBatch = {
    batch: B, seqLen: S, inputIds: Int32Array.from({ length: B * S }, () => 5 + rng.int(minilmL6Config.vocabSize - 5)), attentionMask: new Uint8Array(B * S).fill(1)
  }
  const queries = sliceBatch(batch, 0, B / 2), docs = sliceBatch(batch, B / 2, B)
  const step = () => {
    opt.zeroGrad()
    if (mode === "head") {
      // the frozen encoder runs in inference mode (nothing kept), only the head trains
      const pooled = embedder.embed(batch, { train: true, rng })
      const n = l2Normalize(head.forward(pooled))
      const cos = cosineMatrix(sliceRows(n.y, 0, B / 2), sliceRows(n.y, B / 2, B))
      const { dA, dB } = cosineMatrixBackward(cos, infoNce(cos.scores, { temperature: TAU }).grad)
      head.backward(l2NormalizeBackward(n, concatRows([dA, dB])))
    } else if (mode === "gradcache" || mode === "gradcache-x4") {
      cachedInfoNce(embedder, queries, docs, { temperature: TAU, chunkSize: 8, train: true, rng })
    } else {
      const e = embedder.embed(batch, { keep: true, train: true, rng })
      const cos = cosineMatrix(sliceRows(e, 0, B / 2), sliceRows(e, B / 2, B))
      const { dA, dB } = cosineMatrixBackward(cos, infoNce(cos.scores, { temperature: TAU }).grad)
      embedder.backward(concatRows([dA, dB]))
    }
    opt.step()
  }
  step() // warm-up (allocates AdamW moments)
  const t0 = performance.now()
  for (let i = 0; i < steps; i++) step()
  const secondsPerStep = (performance.now() - t0) / 1000 / steps
  return { secondsPerStep, tokensPerSecond: (B * S) / secondsPerStep, peakRssMiB: process.resourceUsage().maxRSS / 1024 }
}

const spawnWorker = (mode: string): Result => {
  const out = execFileSync(process.execPath, [...process.execArgv, here, String(steps), `--worker=${mode}`], { encoding: "utf8", maxBuffer: 1 << 20 })
  return JSON.parse(out.trim().split("\n").pop()!) as Result
}

const torchPeer = (mode = "backbone"): Result | string => {
  const python = "/usr/bin/python3"
  if (!existsSync(python)) return "skipped: /usr/bin/python3 not found"
  const probe = spawnSync(python, ["-c", "import torch"], { encoding: "utf8" })
  if (probe.status !== 0) return "skipped: PyTorch not installed (apt-get install python3-torch)"
  const out = execFileSync(python, [fileURLToPath(new URL("finetune_step_torch.py", import.meta.url)), String(steps), String(threads), mode], { encoding: "utf8" })
  return JSON.parse(out.trim().split("\n").pop()!) as Result
}

if (worker !== undefined && MODES.includes(worker)) {
  console.log(JSON.stringify(runWorker(worker as Mode)))
} else {
  const line = (name: string, r: Result, peer?: Result) =>
    console.log(
      `  ${name.padEnd(28)} ${r.tokensPerSecond.toFixed(0).padStart(6)} tokens/s  ${r.secondsPerStep.toFixed(2).padStart(7)} s/step  ` +
        `peak RSS ${r.peakRssMiB.toFixed(0).padStart(5)} MiB` +
        (peer ? `   speed ${(r.tokensPerSecond / peer.tokensPerSecond).toFixed(3)}x, memory ${(r.peakRssMiB / peer.peakRssMiB).toFixed(2)}x vs PyTorch` : "")
    )
  console.log(`fine-tuning step, MiniLM-L6 shape, batch ${BATCH} x ${S} tokens, dropout 0.1, AdamW, ${threads} thread(s), ${steps} timed steps each`)
  const peer = torchPeer()
  const plain = spawnWorker("plain")
  const cached = spawnWorker("gradcache")
  if (typeof peer === "string") console.log(`  PyTorch peer ${peer}`)
  else line(`PyTorch ${threads} thread(s)`, peer)
  const ref = typeof peer === "string" ? undefined : peer
  line("embedflow (plain)", plain, ref)
  line("embedflow (GradCache, chunk 8)", cached, ref)
  if (process.argv.includes("--large")) line(`embedflow (GradCache, batch ${4 * BATCH})`, spawnWorker("gradcache-x4"), ref)
  if (process.argv.includes("--modes")) {
    console.log("per training mode (issue 12), each against PyTorch in the same mode:")
    for (const [name, ours, theirs] of [["head", "head", "head"], ["LoRA r=8", "lora", "lora"], ["backbone", "plain", "backbone"]] as const) {
      const p = torchPeer(theirs)
      if (typeof p === "string") console.log(`  PyTorch ${theirs} ${p}`)
      else line(`PyTorch ${name}`, p)
      line(`embedflow ${name}`, spawnWorker(ours), typeof p === "string" ? undefined : p)
    }
  }
}
