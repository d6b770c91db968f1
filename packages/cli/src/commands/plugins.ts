import { Effect, Schema, SchemaAST } from "effect"
import { Command } from "effect/cli"
import type { Plugin } from "@embedflow/core"
import { switchFlag } from "../internal/options.js"
import { loadRegistry } from "../loadPlugins.js"
import { printOut } from "../Session.js"

/**
 * The params' JSON Schema, with each field's `Params.describe` text: JSON Schema drops descriptions
 * of some fields (numbers, checked integers, fields with defaults), the schema's AST keeps them.
 */
const withDescriptions = (params: Schema.Top) => {
  const schema = Schema.toJsonSchemaDocument(params).schema as { properties?: Record<string, Record<string, unknown>> }
  const fields = (params as { fields?: Record<string, { ast: SchemaAST.AST }> }).fields ?? {}
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const description = fields[name] && SchemaAST.resolveDescription(fields[name].ast)
    if (description !== undefined) property.description = description
  }
  return schema
}

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
      params: withDescriptions(s.params)
    }))
  }))

const paramLines = (schema: unknown): Array<string> => {
  const s = schema as {
    properties?: Record<string, { type?: unknown; anyOf?: Array<{ type?: unknown }>; description?: string; default?: unknown }>
    required?: Array<string>
  }
  if (!s.properties) return []
  return Object.entries(s.properties).map(([k, v]) => {
    // Numbers come as anyOf [number, "Infinity" | "-Infinity" | "NaN" strings]: name the first type.
    const declared = v.type ?? v.anyOf?.[0]?.type
    const type = Array.isArray(declared) ? declared.join("|") : (declared ?? "value")
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

/** `embedflow plugins [--json]`. */
export const pluginsCommand = Command.make("plugins", { json: switchFlag("json", "print JSON (params as JSON Schema)") }, (input) =>
  Effect.flatMap(
    Effect.tryPromise({ try: () => loadRegistry(), catch: (e) => e as Error }),
    (registry) => printOut(input.json ? JSON.stringify(describePlugins(registry), null, 2) : formatPlugins(registry))
  )
).pipe(
  Command.withDescription("Lists the built-in plugins' stages with their input and output ports and their params."),
  Command.withShortDescription("stages with their ports and params")
)
