import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    tinyModels: string
  }
}

const repo = resolve(import.meta.dirname, "../../..")

/**
 * Builds tiny-bert, tiny-bert-cross and tiny-gpt2 (deterministic, ~2 s) into a temp folder shared
 * by all test files. Through the CLI: vitest's global-setup runner lacks import.meta.resolve.
 */
export default function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "embedflow-models-test-"))
  execFileSync(process.execPath, ["--conditions=source", "--import", "tsx", join(repo, "tools/tiny-models/src/main.ts"), dir], {
    cwd: repo,
    stdio: "pipe"
  })
  project.provide("tinyModels", dir)
  return () => rmSync(dir, { recursive: true, force: true })
}
