import { Schema } from "effect"
import type { Plugin } from "@embedflow/core"

/** Every stage with its ports and params (from the params schema's JSON Schema). */
export const describePlugins = (registry: Plugin.Registry) =>
  registry.plugins.map((p) => ({
    plugin: p.name,
    version: p.version,
    description: p.description,
    stages: p.stages.map((s) => ({
      name: s.name,
      version: s.version,
      description: s.description,
      inputs: Object.fromEntries(Object.entries(s.inputs).map(([k, t]) => [k, `${(t as { name: string }).name}${s.optionalInputs.includes(k) ? "?" : ""}`])),
      outputs: Object.fromEntries(Object.entries(s.outputs).map(([k, t]) => [k, (t as { name: string }).name])),
      params: Schema.toJsonSchemaDocument(s.params).schema
    }))
  }))

const paramLines = (schema: unknown): Array<string> => {
  const s = schema as { properties?: Record<string, { type?: unknown; description?: string; default?: unknown }>; required?: Array<string> }
  if (!s.properties) return []
  return Object.entries(s.properties).map(([k, v]) => {
    const type = Array.isArray(v.type) ? v.type.join("|") : (v.type ?? "value")
    const req = s.required?.includes(k) ? "" : "?"
    return `      ${k}${req}: ${String(type)}${v.description ? `  — ${v.description}` : ""}`
  })
}

export const formatPlugins = (registry: Plugin.Registry): string => {
  const lines: Array<string> = []
  for (const p of describePlugins(registry)) {
    lines.push(`${p.plugin} ${p.version} — ${p.description}`)
    for (const s of p.stages) {
      const ins = Object.entries(s.inputs).map(([k, t]) => `${k}: ${t}`).join(", ")
      const outs = Object.entries(s.outputs).map(([k, t]) => `${k}: ${t}`).join(", ")
      lines.push(`  ${s.name}@${s.version}  (${ins}) → (${outs})`, `    ${s.description}`)
      const params = paramLines(s.params)
      if (params.length) lines.push("    params:", ...params)
    }
  }
  return lines.join("\n")
}
