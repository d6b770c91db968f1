import { createHash } from "node:crypto"
import { type AnyStage, Plugin, type StageTask, StageError } from "@embedflow/core"

/** A task as it travels in a message: everything but its inputs (in the store) and scratch folder (made by the runner). */
export type WireTask = Omit<StageTask, "inputs" | "scratchDir">

export const encodeTask = (task: StageTask): string => {
  const { inputs: _inputs, scratchDir: _scratch, ...wire } = task
  return JSON.stringify(wire)
}

export const decodeTask = (json: string): WireTask => JSON.parse(json) as WireTask

/** The store entry that holds a task's inputs: derived from the task key, which covers their content. */
export const inputsKeyOf = (taskKey: string): string => createHash("sha256").update(`embedflow-cluster-inputs\0${taskKey}`).digest("hex")

const stages = new Map<string, Promise<ReadonlyMap<string, AnyStage>>>()

/** The stage a task names, from its plugin module (imported once per process), for its port types. */
export const stageOf = (module: string | undefined, name: string): Promise<AnyStage> => {
  if (module === undefined) return Promise.reject(new StageError({ message: `stage '${name}' has no plugin module: a cluster runner cannot import it` }))
  let entry = stages.get(module)
  if (!entry) {
    entry = Plugin.load(module).then((p) => new Map(p.stages.map((s) => [s.name, s])))
    stages.set(module, entry)
  }
  return entry.then((m) => {
    const stage = m.get(name)
    if (!stage) throw new StageError({ message: `plugin '${module}' has no stage '${name}'` })
    return stage
  })
}

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : typeof e === "object" && e && "message" in e ? String(e.message) : String(e))
