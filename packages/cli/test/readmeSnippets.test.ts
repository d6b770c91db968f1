import { spawnSync } from "node:child_process"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"

// The README's "From code" and "Writing a stage" snippets, extracted from README.md (so they cannot
// drift), type-checked with the repo's compiler settings and run with tsx against the built packages.
const repo = fileURLToPath(new URL("../../../", import.meta.url))
const dir = path.join(repo, "packages/cli", `.readme-snippets-${process.pid}`)
afterAll(() => fs.rm(dir, { recursive: true, force: true }))

const snippet = (readme: string, heading: string): string => {
  const section = readme.split(/^#{2,4} /m).find((s) => s.startsWith(`${heading}\n`))
  const code = section && /```ts\n([\s\S]*?)```/.exec(section)?.[1]
  if (!code) throw new Error(`README.md has no ts snippet under '${heading}'`)
  return code
}

// NO_COLOR without FORCE_COLOR (nx sets it): Node >= 22 warns on stderr when both are set.
const node = (args: Array<string>) =>
  spawnSync(process.execPath, ["--import", "tsx", ...args], { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined } })

describe("README.md snippets", () => {
  it("'Writing a stage' and 'From code' compile, and run", async () => {
    const readme = await fs.readFile(path.join(repo, "README.md"), "utf8")
    await fs.mkdir(dir, { recursive: true })
    await fs.writeFile(path.join(dir, "stage.ts"), snippet(readme, "Writing a stage"))
    // The "From code" snippet runs as written, on a graph of a built-in stage; it prints what it got.
    await fs.writeFile(path.join(dir, "from-code.ts"), snippet(readme, "From code") + "\nconsole.log(JSON.stringify(Object.keys(result.nodes)))\n")
    await fs.writeFile(path.join(dir, "my-graph.yaml"), "name: readme\nnodes:\n  - { id: docs, stage: data/ir-collection, params: { collection: cranfield } }\n")
    // The stage snippet runs in a graph with a source of texts.
    await fs.writeFile(
      path.join(dir, "run-stage.ts"),
      `import { Effect, Schema } from "effect"
import { Graph, layerFileSystem, Plugin, Ports, Runner, Stage } from "@embedflow/core"
import { plugin } from "./stage.ts"

const source = Stage.make({
  name: "fixture/texts", version: "1", description: "fixed texts", params: Schema.Struct({}), inputs: {},
  outputs: { texts: Ports.Texts },
  run: () => Effect.succeed({ texts: [{ id: "a", text: "hello" }] })
})
const registry = new Plugin.Registry([Plugin.make({ name: "fixture", version: "1", description: "fixture", stages: [source] }), plugin])
const result = await Effect.runPromise(
  Graph.validate(
    { name: "stage", nodes: [{ id: "src", stage: "fixture/texts" }, { id: "up", stage: "my-plugin/upper-case", params: { suffix: "!" }, inputs: { texts: "src.texts" } }] },
    registry
  ).pipe(Effect.flatMap((graph) => Runner.run(graph, { layer: registry.layer() })), Effect.provide(layerFileSystem(".embedflow")))
)
console.log(JSON.stringify(result.nodes.up!.outputs.texts))
`
    )
    await fs.writeFile(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({
        extends: "../../../tsconfig.base.json",
        compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false, allowImportingTsExtensions: true, module: "NodeNext", target: "ES2022" },
        include: ["*.ts"]
      })
    )
    const tsc = spawnSync(process.execPath, [path.join(repo, "node_modules/typescript/bin/tsc"), "-p", dir], { encoding: "utf8" })
    expect(tsc.stdout + tsc.stderr).toBe("")
    expect(tsc.status).toBe(0)

    const stage = node(["run-stage.ts"])
    expect(stage.stderr).toBe("")
    expect(JSON.parse(stage.stdout.trim())).toEqual([{ id: "a", text: "HELLO!" }])

    const fromCode = node(["from-code.ts"])
    expect(fromCode.status).toBe(0)
    expect(JSON.parse(fromCode.stdout.trim().split("\n").at(-1)!)).toEqual(["docs"])
  }, 120_000)
})
