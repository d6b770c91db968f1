/**
 * Lock-step contrastive decoding vs plain decoding on tiny-gpt2, same prompts, same run.
 * Plain = the same decoder with w = 0 (noisy rows not run); contrastive = w = 0.5 (one decoder
 * over instruction + noisy rows). Goal: contrastive costs < 2.2x plain per generated token.
 *   node --conditions=source --import tsx bench/src/contrastive-decoding.bench.ts [modelsDir]
 */
import { decodeContrastive, Instructions } from "@embedflow/contrastive-decoding"
import { makeCausalLM } from "@embedflow/models"
import { buildTinyModels } from "@embedflow/tiny-models"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const dir = process.argv[2] ?? fs.mkdtempSync(path.join(os.tmpdir(), "bench-cd-"))
buildTinyModels(dir)
const premises = fs
  .readFileSync(new URL("../../examples/multicsr/data/snli-premises.txt", import.meta.url), "utf8")
  .split("\n")
  .filter((l) => l.trim())
const t = Instructions.defaultInstructions
const jobs = premises.map((p, i) => ({ prompt: Instructions.render(t.entailment, p), noisyPrompt: Instructions.render(t.noisyEntailment, p), seed: i }))
const options = { maxNewTokens: 32, temperature: 0, topP: 1, stop: [], batchSize: 16 }

await Effect.runPromise(
  Effect.scoped(
    Effect.gen(function* () {
      const lm = yield* makeCausalLM(path.join(dir, "tiny-gpt2"))
      const time = (w: number) =>
        Effect.gen(function* () {
          const start = performance.now()
          const out = yield* decodeContrastive(lm, jobs, { ...options, w })
          const seconds = (performance.now() - start) / 1000
          return out.reduce((s, g) => s + g.tokens, 0) / seconds
        })
      yield* time(0) // warm-up
      yield* time(0.5)
      const plain: Array<number> = []
      const contrastive: Array<number> = []
      for (let r = 0; r < 3; r++) {
        plain.push(yield* time(0))
        contrastive.push(yield* time(0.5))
      }
      const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[1]!
      const p = median(plain)
      const c = median(contrastive)
      console.log(`prompts ${jobs.length}, batch ${options.batchSize}, ${options.maxNewTokens} new tokens each (tiny-gpt2, CPU)`)
      console.log(`plain decoding        ${p.toFixed(0)} tokens/s`)
      console.log(`contrastive (w=0.5)   ${c.toFixed(0)} tokens/s`)
      console.log(`cost ratio            ${(p / c).toFixed(2)}x  (goal < 2.2x)`)
    })
  )
)
