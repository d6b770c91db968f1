import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    glove: string
  }
}

const repoRoot = resolve(import.meta.dirname, "../../..")

/**
 * Uses the GloVe encoder that tools/setup.sh builds into models/glove-6b-100d, or builds a
 * 100k-word one (~5 s) into a temp folder when it is absent. The builder runs as its CLI in a child
 * process (it uses import.meta.resolve, which vitest's module runner does not support). The tiny
 * models come from the shared ../../vitest.tiny-models.ts.
 */
export default function setup(project: TestProject) {
  let glove = join(repoRoot, "models/glove-6b-100d")
  if (existsSync(join(glove, "onnx/model.onnx"))) {
    project.provide("glove", glove)
    return
  }
  const dir = mkdtempSync(join(tmpdir(), "embedflow-rag-test-"))
  glove = join(dir, "glove")
  execFileSync(process.execPath, ["--conditions=source", "--import", "tsx", join(repoRoot, "tools/static-encoder/src/main.ts"), glove, "--max-words=100000"], {
    cwd: repoRoot,
    stdio: "pipe"
  })
  project.provide("glove", glove)
  return () => rmSync(dir, { recursive: true, force: true })
}
