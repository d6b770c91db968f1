import { execFileSync } from "node:child_process"
import * as path from "node:path"
import type { TestProject } from "vitest/node"

const script = path.resolve(import.meta.dirname, "../../../tools/postgres.sh")

declare module "vitest" {
  export interface ProvidedContext {
    /** URL of the throwaway PostgreSQL server (database `embedflow`). */
    pgUrl: string
    /** Its folder, for `tools/postgres.sh restart DIR`. */
    pgDir: string
  }
}

/** One throwaway PostgreSQL server for the test run (installed with apt-get if absent), removed afterwards. */
export default function setup(project: TestProject) {
  const dir = path.join("/tmp", `embedflow-pg-${process.pid}-${Date.now()}`)
  const url = execFileSync("bash", [script, "start", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim()
  project.provide("pgUrl", url)
  project.provide("pgDir", dir)
  return () => {
    execFileSync("bash", [script, "remove", dir], { stdio: "inherit" })
  }
}
