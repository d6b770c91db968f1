import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"

/** A temporary data root holding the given files (paths relative to the root). */
export const fixtureRoot = (files: Record<string, string | Uint8Array>): string => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "embedflow-data-"))
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
    fs.writeFileSync(path.join(root, rel), content)
  }
  return root
}

/** Runs an effect that must fail and returns its typed error (a success makes Effect.flip fail the test). */
export const failure = <A, E>(effect: Effect.Effect<A, E>): Promise<E> => Effect.runPromise(Effect.flip(effect))
