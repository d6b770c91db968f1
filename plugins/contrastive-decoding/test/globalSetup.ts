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

/** Builds the deterministic tiny models (~2 s) once for all test files of this package. */
export default function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "embedflow-multicsr-test-"))
  execFileSync(process.execPath, ["--conditions=source", "--import", "tsx", join(repo, "tools/tiny-models/src/main.ts"), dir], { cwd: repo, stdio: "pipe" })
  project.provide("tinyModels", dir)
  return () => rmSync(dir, { recursive: true, force: true })
}
