import * as fs from "node:fs/promises"
import * as path from "node:path"

const pascal = (name: string) => name.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase())

/** Files of a new plugin package: one example stage, its test, a README with a runnable graph. */
export const pluginTemplate = (name: string): Record<string, string> => {
  const Name = pascal(name)
  return {
    "package.json": JSON.stringify(
      {
        name: `@embedflow/${name}`,
        version: "0.1.0",
        private: true,
        type: "module",
        description: `embedflow plugin: ${name}`,
        exports: { ".": { source: "./src/index.ts", types: "./dist/index.d.ts", default: "./dist/index.js" } },
        scripts: { build: "tsc -b", test: "vitest run" },
        dependencies: { "@embedflow/core": "*", effect: "4.1.0" }
      },
      null,
      2
    ) + "\n",
    "tsconfig.json": JSON.stringify(
      {
        extends: "../../tsconfig.base.json",
        compilerOptions: { rootDir: "src", outDir: "dist" },
        include: ["src"],
        references: [{ path: "../../packages/core" }]
      },
      null,
      2
    ) + "\n",
    "vitest.config.ts": `export { default } from "../../vitest.shared.ts"\n`,
    [`src/${Name}.ts`]: `import { Effect, Schema } from "effect"
import { Params, Ports, Stage, progress } from "@embedflow/core"

/** Upper-cases every text: replace with your stage's real work. */
export const upperCase = Stage.make({
  name: "${name}/upper-case",
  version: "1",
  description: "Upper-cases texts (template stage)",
  params: Schema.Struct({ suffix: Params.withDefault(Schema.String, "") }),
  inputs: { texts: Ports.Texts },
  outputs: { texts: Ports.Texts },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const out = inputs.texts.map((t) => ({ id: t.id, text: t.text.toUpperCase() + params.suffix }))
      yield* progress(out.length, out.length, "texts")
      return { texts: out }
    })
})
`,
    "src/index.ts": `import { Plugin } from "@embedflow/core"
import { upperCase } from "./${Name}.js"

export { upperCase } from "./${Name}.js"

export const plugin = Plugin.make({
  name: "${name}",
  version: "0.1.0",
  description: "${name} stages",
  stages: [upperCase]
})
`,
    [`test/${Name}.test.ts`]: `import { Effect } from "effect"
import { StageContext } from "@embedflow/core"
import { describe, expect, it } from "vitest"
import { upperCase } from "../src/index.js"

const context = StageContext.of({
  nodeId: "t", stageName: upperCase.name, seed: 1, scratchDir: "/tmp", resolvePath: (p) => p,
  progress: () => Effect.void, metric: () => Effect.void, log: () => Effect.void
})

describe("${name}/upper-case", () => {
  it("upper-cases texts", async () => {
    const out = await Effect.runPromise(
      upperCase.run({ suffix: "!" }, { texts: [{ id: "1", text: "hi" }] }).pipe(Effect.provideService(StageContext, context))
    )
    expect(out.texts).toEqual([{ id: "1", text: "HI!" }])
  })
})
`,
    "README.md": `# @embedflow/${name}

Stages: \`${name}/upper-case\` (Texts → Texts).

Use it in a graph by naming the package under \`plugins:\`:

\`\`\`yaml
name: ${name}-example
plugins: ["@embedflow/${name}"]
nodes:
  - { id: up, stage: ${name}/upper-case, params: { suffix: "!" }, inputs: { texts: source.texts } }
\`\`\`
`
  }
}

export const newPlugin = async (name: string, root: string): Promise<string> => {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`plugin name '${name}' must be lower-case letters, digits and dashes`)
  const dir = path.join(root, "plugins", name)
  try {
    await fs.access(dir)
    throw new Error(`${dir} already exists`)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e
  }
  for (const [file, content] of Object.entries(pluginTemplate(name))) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true })
    await fs.writeFile(path.join(dir, file), content)
  }
  return dir
}
