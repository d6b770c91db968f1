import type { Manifest, PortType } from "@embedflow/core"

/** A store manifest for an entry written by the cluster (a shard's outputs, a task's inputs). */
export const manifestOf = (
  key: string,
  stage: { readonly name: string; readonly version: string },
  nodeId: string,
  params: unknown,
  ports: Readonly<Record<string, PortType.PortType<any>>>,
  seconds: number
): Manifest => ({
  key,
  stage: stage.name,
  version: stage.version,
  nodeId,
  params,
  inputs: {},
  ports: Object.fromEntries(Object.entries(ports).map(([p, t]) => [p, { type: t.name, format: t.format.kind }])),
  createdAt: new Date().toISOString(),
  seconds
})

export const shardName = (nodeId: string, shard: { readonly index: number } | undefined) => (shard ? `${nodeId}#${shard.index}` : nodeId)
