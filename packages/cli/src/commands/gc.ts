import * as path from "node:path"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { ArtifactStore, layerFileSystem } from "@embedflow/core"
import { intFlag, storeFlag } from "../internal/options.js"
import { printOut } from "../Session.js"

const mib = (bytes: number) => `${(bytes / (1 << 20)).toFixed(1)} MiB`

/** Removes entries no kept run references, and leftovers of dead runs. */
export const gc = (options: { readonly store: string; readonly keepRuns?: number | undefined }) =>
  Effect.gen(function* () {
    const store = yield* ArtifactStore
    const r = yield* store.gc({ keepRuns: options.keepRuns })
    return [
      `store ${store.root}: ${mib(r.bytesBefore)} before, ${mib(r.bytesAfter)} after`,
      `  runs: ${r.runsKept} kept, ${r.runsRemoved} removed; entries: ${r.entriesKept} kept, ${r.entriesRemoved} removed; leftovers of dead runs: ${r.leftoversRemoved} removed`
    ].join("\n")
  }).pipe(Effect.provide(layerFileSystem(path.resolve(options.store))))

/** `embedflow gc [--keep-runs N]`. */
export const gcCommand = Command.make(
  "gc",
  {
    store: storeFlag,
    keepRuns: intFlag("keep-runs", 0, "keep the entries of the N latest runs of each graph (default: keep all runs)").pipe(Flag.optional)
  },
  (input) => Effect.flatMap(gc({ store: input.store, keepRuns: Option.getOrUndefined(input.keepRuns) }), printOut)
).pipe(
  Command.withDescription("Removes the cache entries no kept run uses, and what dead runs left behind (temp entries, scratch folders)."),
  Command.withShortDescription("remove cache entries no kept run uses")
)
