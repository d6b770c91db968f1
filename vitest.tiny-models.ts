import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    tinyModels: string
  }
}

const repoRoot = import.meta.dirname

/**
 * A vitest globalSetup (name it in a package's vitest.config.ts): builds the deterministic tiny
 * models (tiny-bert, tiny-bert-cross, tiny-gpt2; ~2 s) into a temp folder shared by every test file
 * of the run, provided as `inject("tinyModels")`. The builder runs as its CLI in a child process: it
 * uses `import.meta.resolve`, which vitest's module runner does not support.
 */
export default function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "embedflow-tiny-models-"))
  execFileSync(process.execPath, ["--conditions=source", "--import", "tsx", join(repoRoot, "tools/tiny-models/src/main.ts"), dir], {
    cwd: repoRoot,
    stdio: "pipe"
  })
  project.provide("tinyModels", dir)
  return () => rmSync(dir, { recursive: true, force: true })
}
