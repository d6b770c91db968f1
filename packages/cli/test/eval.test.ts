import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { capture } from "./capture.js"
import { main } from "../src/index.js"

const glove = fileURLToPath(new URL("../../../models/glove-6b-100d", import.meta.url))


describe("embedflow eval", () => {
  it("runs the chosen tasks on GloVe, prints one table and writes MTEB result files", async () => {
    const output = fs.mkdtempSync(path.join(os.tmpdir(), "embedflow-eval-cli-"))
    const c = capture()
    const code = await main(["eval", "--model", glove, "--tasks", "STSBenchmark,CranfieldReranking", "--output", output], c.io)
    expect(c.errText()).not.toMatch(/error/)
    expect(code).toBe(0)
    const rows = c.text().split("\n").filter((l) => /^\| (STSBenchmark|CranfieldReranking) /.test(l))
    expect(rows).toHaveLength(2)
    expect(fs.readdirSync(output).sort()).toEqual(["CranfieldReranking.json", "STSBenchmark.json"])
    const sts = JSON.parse(fs.readFileSync(path.join(output, "STSBenchmark.json"), "utf8"))
    // Averaged GloVe on STS-B test: 0.419 Spearman (data README's figure).
    expect(sts.scores.test[0].main_score).toBeCloseTo(0.419, 2)
  }, 120_000)

  it("exits 2 on an unknown task or a missing --model", async () => {
    const a = capture()
    expect(await main(["eval", "--model", glove, "--tasks", "STSBenchmark,Nope"], a.io)).toBe(2)
    expect(a.errText()).toMatch(/unknown task\(s\) Nope/)
    const b = capture()
    expect(await main(["eval"], b.io)).toBe(2)
    expect(b.errText()).toMatch(/Missing required flag: --model/)
  })
})
