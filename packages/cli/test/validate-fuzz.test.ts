import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { capture } from "./capture.js"
import YAML from "yaml"
import { main } from "../src/index.js"

const repo = fileURLToPath(new URL("../../../", import.meta.url))
/** Real graphs: the built-in default and the examples'. */
const sources = ["packages/cli/graphs/default.yaml", "examples/multicsr/graph.yaml", "examples/icl-retrieval/graph.yaml"]

/** mulberry32: a small seeded generator, so every mutation is reproducible from its case number. */
const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

type Json = any
const junk = (r: () => number): Json => {
  const pick = Math.floor(r() * 9)
  return [null, 42, -1.5, "", "x.y", "../../../etc", [], {}, { nested: [1, "two"] }][pick]
}

/** One structural mutation of a parsed graph, in place. */
const mutations: Array<(g: Json, r: () => number) => void> = [
  (g, r) => g.nodes.splice(Math.floor(r() * g.nodes.length), 1),
  (g, r) => {
    const n = g.nodes[Math.floor(r() * g.nodes.length)]
    if (n) delete n[["id", "stage", "params", "inputs"][Math.floor(r() * 4)]!]
  },
  (g, r) => {
    const n = g.nodes[Math.floor(r() * g.nodes.length)]
    if (n) n[["id", "stage", "params", "inputs"][Math.floor(r() * 4)]!] = junk(r)
  },
  (g, r) => {
    const n = g.nodes[Math.floor(r() * g.nodes.length)]
    const keys = Object.keys(n?.params ?? {})
    if (keys.length > 0) n.params[keys[Math.floor(r() * keys.length)]!] = junk(r)
  },
  (g, r) => {
    const n = g.nodes[Math.floor(r() * g.nodes.length)]
    if (n) n.params = { ...(n.params ?? {}), ["unknownParam" + Math.floor(r() * 9)]: 1 }
  },
  (g, r) => {
    const n = g.nodes[Math.floor(r() * g.nodes.length)]
    if (n && typeof n.stage === "string") n.stage = n.stage.slice(0, -1) + "x"
  },
  (g, r) => g.nodes.push(structuredClone(g.nodes[Math.floor(r() * g.nodes.length)] ?? {})),
  (g, r) => {
    // Re-point an input anywhere: a dangling node, a wrong port, or a cycle.
    const n = g.nodes[Math.floor(r() * g.nodes.length)]
    const target = g.nodes[Math.floor(r() * g.nodes.length)]
    const ports = Object.keys(n?.inputs ?? {})
    if (ports.length > 0 && target) n.inputs[ports[Math.floor(r() * ports.length)]!] = `${r() < 0.2 ? "ghost" : target.id}.${r() < 0.5 ? "texts" : "report"}`
  },
  (g, r) => {
    // A back edge from the last node to an earlier one: a cycle when the input exists.
    const last = g.nodes[g.nodes.length - 1]
    const first = g.nodes[Math.floor(r() * Math.max(1, g.nodes.length - 1))]
    const ports = Object.keys(first?.inputs ?? {})
    if (last && ports.length > 0) first.inputs[ports[0]!] = `${last.id}.${Object.values(last.inputs ?? { x: "a.report" })[0]?.toString().split(".")[1] ?? "report"}`
  },
  (g, r) => {
    const n = g.nodes[Math.floor(r() * g.nodes.length)]
    if (n) n.id = ["a b", "", "dup", "x.y", 7][Math.floor(r() * 5)]
  },
  (g, r) => (g.plugins = [junk(r), "./missing-plugin.ts"]),
  (g, r) => (g[["name", "seed", "nodes", "description"][Math.floor(r() * 4)]!] = junk(r))
]

/** A problem line names a node id, a field of the graph file, or (for a syntax error) a line. */
const located = /^ {2}- (node '[^']*'( at \S+)?: |graph at [\w.]+: |graph: .*line \d+)/

describe("the validator under 500 seeded mutations of real graphs", () => {
  it("exits 0 or 2, and every problem names a node id or a position in the file", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-fuzz-"))
    const originals = await Promise.all(sources.map((s) => fs.readFile(path.join(repo, s), "utf8")))
    const exits: Record<number, number> = {}
    const unlocated: Array<string> = []
    for (let c = 0; c < 500; c++) {
      const r = rng(c + 1)
      const which = c % sources.length
      const graph = YAML.parse(originals[which]!, { merge: true })
      // Plugin paths stay valid from the temp folder.
      if (Array.isArray(graph.plugins)) graph.plugins = graph.plugins.map((p: string) => (p.startsWith(".") ? path.resolve(repo, path.dirname(sources[which]!), p) : p))
      let text: string
      if (c % 10 === 9) {
        // A textual mutation: cut the file mid-way or insert a stray character.
        const yaml = YAML.stringify(graph)
        const at = Math.floor(r() * yaml.length)
        text = r() < 0.5 ? yaml.slice(0, at) : `${yaml.slice(0, at)}${"{[:&*"[Math.floor(r() * 5)]}${yaml.slice(at)}`
      } else {
        for (let m = 1 + Math.floor(r() * 3); m > 0; m--) {
          const mutate = mutations[Math.floor(r() * mutations.length)]!
          try {
            mutate(graph, r)
          } catch {
            // An earlier mutation left nothing this one applies to (nodes replaced by a number, say).
          }
        }
        text = YAML.stringify(graph)
      }
      const file = path.join(dir, `case-${c}.yaml`)
      await fs.writeFile(file, text)
      const out = capture()
      const code = await main(["validate", file], out.io)
      exits[code] = (exits[code] ?? 0) + 1
      if (code === 2) {
        for (const line of out.errText().split("\n").filter((l) => l.startsWith("  - "))) {
          if (!located.test(line)) unlocated.push(`case ${c}: ${line}`)
        }
      }
    }
    expect(Object.keys(exits).map(Number).filter((code) => code !== 0 && code !== 2)).toEqual([])
    expect(exits[2]).toBeGreaterThan(400)
    expect(unlocated).toEqual([])
  }, 120_000)
})
