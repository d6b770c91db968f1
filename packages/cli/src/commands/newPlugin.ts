import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Effect } from "effect"
import { Argument, Command } from "effect/cli"
import { printOut } from "../Session.js"

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
    [`test/${Name}.test.ts`]: `import { ArtifactStore, Graph, makeFileSystem, Plugin, Ports, Runner, Stage } from "@embedflow/core"
import { Effect, Schema } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { plugin } from "../src/index.js"

// A test-only source of texts, so the stage runs inside a real graph (validation, runner, cache).
const texts = Stage.make({
  name: "fixture/texts",
  version: "1",
  description: "fixed texts",
  params: Schema.Struct({}),
  inputs: {},
  outputs: { texts: Ports.Texts },
  run: () => Effect.succeed({ texts: [{ id: "1", text: "hi" }, { id: "2", text: "there" }] })
})
const registry = new Plugin.Registry([Plugin.make({ name: "fixture", version: "1", description: "test fixture", stages: [texts] }), plugin])

const root = mkdtempSync(join(tmpdir(), "${name}-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe("${name}/upper-case", () => {
  it("upper-cases texts in a graph", async () => {
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const graph = yield* Graph.validate(
          {
            name: "${name}-test",
            nodes: [
              { id: "source", stage: "fixture/texts" },
              { id: "up", stage: "${name}/upper-case", params: { suffix: "!" }, inputs: { texts: "source.texts" } }
            ]
          },
          registry
        )
        return yield* Runner.run(graph, { layer: registry.layer() })
      }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(root)))
    )
    expect(result.nodes.up!.outputs.texts).toEqual([{ id: "1", text: "HI!" }, { id: "2", text: "THERE!" }])
  })
})
`,
    [EXAMPLE_GRAPH]: exampleGraph(name),
    "README.md": `# @embedflow/${name}

Stages: \`${name}/upper-case\` (Texts → Texts).

Build it (\`npx tsc -b\`), then run this graph (\`${EXAMPLE_GRAPH}\` in this folder) with
\`embedflow run plugins/${name}/${EXAMPLE_GRAPH}\`. Its \`plugins:\` entry is a path relative to the
graph file; once \`npm install\` has linked the package, \`"@embedflow/${name}"\` works too.

\`\`\`yaml
${exampleGraph(name)}\`\`\`
`
  }
}

/** The file name of the scaffold's example graph, also shown in its README. */
export const EXAMPLE_GRAPH = "example.yaml"

const exampleGraph = (name: string) => `name: ${name}-example
plugins: ["./dist/index.js"]
nodes:
  - { id: source, stage: data/ir-collection, params: { collection: cranfield } }
  - { id: up, stage: ${name}/upper-case, params: { suffix: "!" }, inputs: { texts: source.documents } }
`

const validName = /^[a-z][a-z0-9-]*$/
const nameRule = "lower-case letters, digits and dashes, starting with a letter"

export const newPlugin = async (name: string, root: string): Promise<string> => {
  if (!validName.test(name)) throw new Error(`plugin name '${name}' must be ${nameRule}`)
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

/** `embedflow new-plugin <name>`: scaffolds plugins/<name> in the working directory. */
export const newPluginCommand = Command.make(
  "new-plugin",
  { name: Argument.String("name").pipe(Argument.withDescription("the plugin's name (its package is @embedflow/<name>)"), Argument.filter((n) => validName.test(n), () => nameRule)) },
  (input) =>
    Effect.tryPromise({ try: () => newPlugin(input.name, process.cwd()), catch: (e) => e as Error }).pipe(
      Effect.flatMap((dir) => printOut(`created ${path.relative(process.cwd(), dir)}: run 'npm install' to link it, then 'npx vitest run' in it`))
    )
).pipe(
  Command.withDescription("Scaffolds plugins/<name>: a package with one example stage, its test, an example graph and a README."),
  Command.withShortDescription("scaffold plugins/<name> (package, stage, test, README)")
)
