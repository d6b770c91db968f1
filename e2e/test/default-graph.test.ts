import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../..", import.meta.url))
const cli = path.join(root, "packages/cli/dist/bin.js")

interface Table {
  readonly columns: ReadonlyArray<string>
  readonly rows: ReadonlyArray<Record<string, string | number | null>>
}

/** The README's main job, run as a user runs it: the built CLI on the embedded default graph. */
describe("embedflow run --default", () => {
  it("trains on SNLI, beats the unsupervised GloVe baseline on STS-B test, and resumes from the cache", () => {
    if (!existsSync(cli)) throw new Error("packages/cli is not built: run `bash tools/setup.sh`")
    if (!existsSync(path.join(root, "models/glove-6b-100d/onnx/model_sif.onnx"))) throw new Error("models/glove-6b-100d is missing: run `bash tools/setup.sh`")
    const store = mkdtempSync(path.join(os.tmpdir(), "embedflow-default-"))
    const run = () =>
      execFileSync(process.execPath, [cli, "run", "--default", "--store", store], { cwd: root, encoding: "utf8", timeout: 900_000, maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "pipe"] })
    const stdout = run()
    expect(stdout).toContain("| method |")
    const runDir = stdout.trim().split("\n").at(-1)!.replace("run log and outputs: ", "")
    const table = JSON.parse(readFileSync(path.join(runDir, "outputs/table/files/report.json"), "utf8")) as Table
    const sts = (method: string) => table.rows.find((r) => r.method === method)?.["STS-B test spearman"] as number
    const baseline = sts("GloVe SIF - 1st PC (baseline)")
    const trained = sts("SIF GloVe + trained words & head")
    const headOnly = sts("ablation: frozen word vectors (head only)")
    // The reference figure for SIF - 1st PC on these vectors is 0.609.
    expect(baseline).toBeGreaterThan(0.6)
    expect(baseline).toBeLessThan(0.62)
    // Issue 7's goal: >= 0.68, and >= 0.07 above the best unsupervised baseline.
    expect(trained).toBeGreaterThanOrEqual(0.68)
    expect(trained).toBeGreaterThanOrEqual(baseline + 0.07)
    expect(trained).toBeGreaterThan(headOnly)
    const bm25 = table.rows.find((r) => r.method === "BM25")!
    expect(bm25["Cranfield ndcg_at_10"]).toBeGreaterThan(0.3)
    // The MTEB-style suite for the base and trained encoders: every main score above chance.
    for (const method of ["GloVe SIF", "SIF GloVe + trained words & head"]) {
      const row = table.rows.find((r) => r.method === method)!
      expect(row["SST-2 (acc) main_score"]).toBeGreaterThan(0.55)
      expect(row["AG News (acc) main_score"]).toBeGreaterThan(0.7)
      expect(row["TREC (acc) main_score"]).toBeGreaterThan(1 / 6)
      expect(row["AG News clusters (V) main_score"]).toBeGreaterThan(0.2)
      expect(row["Cranfield rerank (MAP) main_score"]).toBeGreaterThan(0.2)
    }

    // A second run computes nothing: every node comes from the cache.
    const again = execFileSync(process.execPath, [cli, "run", "--default", "--store", store], { cwd: root, encoding: "utf8", timeout: 300_000, maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "pipe"] })
    const log = readFileSync(path.join(again.trim().split("\n").at(-1)!.replace("run log and outputs: ", ""), "run.jsonl"), "utf8")
    const finished = JSON.parse(log.trim().split("\n").at(-1)!) as { computed: number; cached: number }
    expect(finished).toMatchObject({ computed: 0, cached: 77 })
  }, 1_200_000)
})
