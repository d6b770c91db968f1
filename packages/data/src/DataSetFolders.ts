import * as path from "node:path"
import { type PlanContext, StageError } from "@embedflow/core"
import { Effect } from "effect"
import * as DataRoot from "./DataRoot.js"

/**
 * The data set folders a stage reads under the data root, declared so that their content is part of
 * the node's cache key (an edited or replaced data file recomputes the node).
 */
export const dataSetFolders = (dataDir: string | undefined, context: PlanContext, ...folders: ReadonlyArray<string>) =>
  Effect.map(
    dataDir === undefined ? DataRoot.resolve() : Effect.succeed(context.resolvePath(dataDir)),
    (root) => folders.map((f) => path.join(root, f))
  ).pipe(Effect.mapError((e) => new StageError({ message: `cannot find the data sets: ${e.message}`, cause: e })))

