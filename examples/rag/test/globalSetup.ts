import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    tinyModels: string
    glove: string
  }
}

const repoRoot = resolve(import.meta.dirname, "../../..")

/**
 * Builds the tiny models (~2 s) into a temp folder, and uses the GloVe encoder that tools/setup.sh
 * builds into models/glove-6b-100d, or builds a 100k-word one (~5 s) when it is absent. The
 * builders run as CLIs in child processes (they use import.meta.resolve, which vitest's module
 * runner does not support).
 */
export default function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "embedflow-rag-test-"))
  const node = (script: string, ...args: Array<string>) =>
    execFileSync(process.execPath, ["--conditions=source", "--import", "tsx", join(repoRoot, script), ...args], { cwd: repoRoot, stdio: "pipe" })
  node("tools/tiny-models/src/main.ts", join(dir, "tiny"))
  let glove = join(repoRoot, "models/glove-6b-100d")
  if (!existsSync(join(glove, "onnx/model.onnx"))) {
    glove = join(dir, "glove")
    node("tools/static-encoder/src/main.ts", glove, "--max-words=100000")
  }
  project.provide("tinyModels", join(dir, "tiny"))
  project.provide("glove", glove)
  return () => rmSync(dir, { recursive: true, force: true })
}
