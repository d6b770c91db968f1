import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { ArtifactStore, Graph, type GraphProblem, GraphValidationError, makeFileSystem, Plan } from "../src/index.js"
import { registry } from "./fixtures.js"

const problemsOf = (raw: unknown): ReadonlyArray<GraphProblem> => {
  const exit = Effect.runSyncExit(Graph.validate(raw, registry))
  if (Exit.isSuccess(exit)) throw new Error("expected validation to fail")
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (!error || !("error" in error) || !(error.error instanceof GraphValidationError)) throw new Error(String(exit.cause))
  return error.error.problems
}

describe("Graph.validate", () => {
  it("accepts a valid graph and orders it topologically", () => {
    const graph = Effect.runSync(
      Graph.validate(
        {
          name: "ok",
          nodes: [
            { id: "total", stage: "test/sum", inputs: { values: "sq.values" } },
            { id: "sq", stage: "test/square", inputs: { values: "nums.values" } },
            { id: "nums", stage: "test/range", params: { n: 3 } }
          ]
        },
        registry
      )
    )
    expect(graph.nodes.map((n) => n.id)).toEqual(["nums", "sq", "total"])
  })

  it("reports every kind of problem at once, naming nodes and fields", () => {
    const problems = problemsOf({
      name: "bad",
      nodes: [
        { id: "a", stage: "test/rnge", params: { n: 3 } },
        { id: "b", stage: "test/range", params: { n: -1, m: 2 } },
        { id: "c", stage: "test/range" },
        { id: "d", stage: "test/square", inputs: { values: "ghost.values" } },
        { id: "e", stage: "test/square", inputs: { values: "b.nope" } },
        { id: "f", stage: "test/square", inputs: { values: "t.texts" } },
        { id: "g", stage: "test/square" },
        { id: "h", stage: "test/square", inputs: { values: "b.values", extra: "b.values" } },
        { id: "t", stage: "test/texts" },
        { id: "b", stage: "test/texts" },
        { id: "x", stage: "test/square", inputs: { values: "y.values" } },
        { id: "y", stage: "test/square", inputs: { values: "x.values" } }
      ]
    })
    const find = (kind: GraphProblem["kind"], nodeId: string) => problems.find((p) => p.kind === kind && p.nodeId === nodeId)
    expect(find("unknown-stage", "a")?.message).toContain("did you mean 'test/range'")
    expect(problems.find((p) => p.nodeId === "b" && p.path === "params.n")?.message).toBe("Expected a value greater than 0")
    expect(problems.find((p) => p.nodeId === "b" && p.path === "params.m")?.message).toBe("unknown param; stage 'test/range' takes: n")
    expect(find("invalid-param", "c")).toMatchObject({ path: "params.n", message: "Missing key" })
    expect(find("dangling-input", "d")).toMatchObject({ path: "inputs.values" })
    expect(find("unknown-output", "e")?.message).toContain("has no output 'nope'")
    expect(find("type-mismatch", "f")?.message).toBe("expects Numbers but 't.texts' gives Texts")
    expect(find("missing-input", "g")).toMatchObject({ path: "inputs.values" })
    expect(find("unknown-input", "h")).toMatchObject({ path: "inputs.extra" })
    expect(find("duplicate-node", "b")).toBeDefined()
    const cycle = problems.find((p) => p.kind === "cycle")
    expect(cycle?.message).toMatch(/cycle: (x -> y -> x|y -> x -> y)/)
  })

  it("reports malformed structure with paths, naming a node by its id when it has one", () => {
    const problems = problemsOf({ nodes: [{ id: "a b", stage: 3 }, { stage: "test/range" }] })
    expect(problems.every((p) => p.kind === "structure")).toBe(true)
    expect(problems.map((p) => `${p.nodeId ?? "-"}:${p.path}`).sort()).toEqual(["-:name", "-:nodes.1.id", "a b:id", "a b:stage"])
  })

  it("fills param defaults, which then count in the cache key", async () => {
    const validate = (params?: Record<string, unknown>) =>
      Effect.runSync(
        Graph.validate(
          { name: "d", nodes: [{ id: "n", stage: "test/range", params: { n: 2 } }, { id: "s", stage: "test/sum", ...(params ? { params } : {}), inputs: { values: "n.values" } }] },
          registry
        )
      )
    const graph = validate()
    expect(graph.nodes[1]!.params).toEqual({ scale: 1 })
    expect(graph.nodes[1]!.paramsJson).toEqual({ scale: 1 })
    // A default left out and the same value written out are one computation; another value is not.
    const store = makeFileSystem(fs.mkdtempSync(path.join(os.tmpdir(), "embedflow-defaults-key-")))
    const key = async (g: ReturnType<typeof validate>) =>
      (await Effect.runPromise(Plan.make(g).pipe(Effect.provideService(ArtifactStore, store)))).nodes.find((p) => p.node.id === "s")!.key
    const base = await key(graph)
    expect(base).toMatch(/^[0-9a-f]{16,}$/)
    expect(await key(validate({ scale: 1 }))).toBe(base)
    expect(await key(validate({ scale: 2 }))).not.toBe(base)
  })

  it("does not require optional inputs", () => {
    const graph = Effect.runSync(
      Graph.validate({ name: "opt", nodes: [{ id: "n", stage: "test/range", params: { n: 2 } }, { id: "s", stage: "test/sum", inputs: { values: "n.values" } }] }, registry)
    )
    expect(graph.nodes).toHaveLength(2)
  })

  it("checks every element of a fan-in input and rejects lists on single ports", () => {
    const problems = problemsOf({
      name: "lists",
      nodes: [
        { id: "n", stage: "test/range", params: { n: 2 } },
        { id: "t", stage: "test/texts" },
        { id: "c", stage: "test/concat", inputs: { parts: ["n.values", "t.texts", "zz.values"] } },
        { id: "s", stage: "test/square", inputs: { values: ["n.values"] } }
      ]
    })
    expect(problems.find((p) => p.path === "inputs.parts.1")?.message).toBe("expects Numbers but 't.texts' gives Texts")
    expect(problems.find((p) => p.path === "inputs.parts.2")?.kind).toBe("dangling-input")
    expect(problems.find((p) => p.nodeId === "s")?.message).toBe("takes one Numbers, but a list of 1 references is given")
  })

  it("renders Mermaid and DOT", () => {
    const graph = Effect.runSync(
      Graph.validate({ name: "r", nodes: [{ id: "n", stage: "test/range", params: { n: 2 } }, { id: "s", stage: "test/square", inputs: { values: "n.values" } }] }, registry)
    )
    expect(Graph.render(graph)).toContain('n -- "values → values (Numbers)" --> s')
    expect(Graph.render(graph, "dot")).toContain('"n" -> "s"')
  })
})

describe("Plugin.Registry", () => {
  it("loads a plugin named twice once, and rejects two plugins claiming one stage", async () => {
    const { plugin } = await import("./fixtures.js")
    const { Plugin } = await import("../src/index.js")
    expect(new Plugin.Registry([plugin, plugin]).plugins).toHaveLength(1)
    expect(() => new Plugin.Registry([plugin, { ...plugin }])).toThrow("stage 'test/range' is provided by two plugins")
  })
})

describe("Graph.readFile", () => {
  it("reads YAML with merge keys, so graph variants can share params", async () => {
    const fs = await import("node:fs/promises")
    const os = await import("node:os")
    const path = await import("node:path")
    const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-yaml-")), "g.yaml")
    await fs.writeFile(file, "name: m\nnodes:\n  - { id: a, stage: test/range, params: &p { n: 2 } }\n  - { id: b, stage: test/range, params: { <<: *p } }\n")
    const graph = await Effect.runPromise(Graph.load(file, registry))
    expect(graph.nodes.map((n) => n.params)).toEqual([{ n: 2 }, { n: 2 }])
  })
})

describe("Graph.validate at scale and with several problems", () => {
  const timed = (raw: unknown) => {
    const start = performance.now()
    const exit = Effect.runSyncExit(Graph.validate(raw, registry))
    return { exit, seconds: (performance.now() - start) / 1000 }
  }

  it("validates 10k nodes with dangling inputs in under 2 s, reporting each", () => {
    const nodes = Array.from({ length: 10_000 }, (_, i) => ({ id: `n${i}`, stage: "test/square", inputs: { values: `missing${i}.values` } }))
    const { exit, seconds } = timed({ name: "dangling", nodes })
    expect(seconds).toBeLessThan(2)
    const problems = Exit.isFailure(exit) ? (exit.cause.reasons.find((r) => r._tag === "Fail") as { error: GraphValidationError }).error.problems : []
    expect(problems.filter((p) => p.kind === "dangling-input")).toHaveLength(10_000)
    expect(problems[9_999]).toMatchObject({ nodeId: "n9999", path: "inputs.values" })
  })

  it("orders a 10k chain written in reverse in under 2 s", () => {
    const n = 10_000
    const nodes = Array.from({ length: n }, (_, k) => {
      const i = n - 1 - k
      return i === 0 ? { id: "n0", stage: "test/range", params: { n: 2 } } : { id: `n${i}`, stage: "test/square", inputs: { values: `n${i - 1}.values` } }
    })
    const { exit, seconds } = timed({ name: "chain", nodes })
    expect(seconds).toBeLessThan(2)
    expect(Exit.isSuccess(exit) && exit.value.nodes.map((x) => x.id).slice(0, 3)).toEqual(["n0", "n1", "n2"])
  })

  it("reports every cycle, not only the first", () => {
    const problems = problemsOf({
      name: "cycles",
      nodes: [
        { id: "a", stage: "test/square", inputs: { values: "b.values" } },
        { id: "b", stage: "test/square", inputs: { values: "a.values" } },
        { id: "ok", stage: "test/range", params: { n: 1 } },
        { id: "c", stage: "test/square", inputs: { values: "e.values" } },
        { id: "d", stage: "test/square", inputs: { values: "c.values" } },
        { id: "e", stage: "test/square", inputs: { values: "d.values" } },
        { id: "self", stage: "test/concat", inputs: { parts: ["self.values"] } },
        { id: "behind", stage: "test/square", inputs: { values: "a.values" } }
      ]
    })
    const cycles = problems.filter((p) => p.kind === "cycle").map((p) => p.message)
    expect(cycles.sort()).toEqual(["cycle: a -> b -> a", "cycle: c -> d -> e -> c", "cycle: self -> self"])
  })

  it("reports a structural error in one node together with the param errors of the others, by node id", () => {
    const problems = problemsOf({
      name: "mixed",
      nodes: [
        { id: "nums", stage: "test/range", params: { n: "three" } },
        { id: "broken", stage: "test/square", inputs: { values: 42 } },
        { id: "total", stage: "test/sum", params: { scale: "big" }, inputs: { values: "broken.values" } }
      ]
    })
    expect(problems.map((p) => `${p.kind} ${p.nodeId} ${p.path}`).sort()).toEqual([
      "invalid-param nums params.n",
      "invalid-param total params.scale",
      "structure broken inputs.values"
    ])
  })
})
