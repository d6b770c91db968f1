import { spawnSync } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { capture } from "./capture.js"
import { main } from "../src/index.js"

// effect/cli's parsing as a user meets it: --help everywhere, exit 2 naming the option on bad usage,
// completion scripts that a shell can use.

const okGraph = fileURLToPath(new URL("./fixtures/ok.yaml", import.meta.url))


const tmp: Array<string> = []
afterAll(() => Promise.all(tmp.map((d) => fs.rm(d, { recursive: true, force: true }))))

/** Each command with every flag it takes (the help must list them all). */
const commands: Record<string, ReadonlyArray<string>> = {
  run: ["--default", "--store", "--force", "--concurrency", "--workers", "--cluster", "--shard-items", "--quiet", "--dry-run", "--explain"],
  validate: ["--default"],
  graph: ["--default", "--format"],
  gc: ["--store", "--keep-runs"],
  plugins: ["--json"],
  "new-plugin": [],
  eval: ["--model", "--tasks", "--output", "--onnx-file", "--quiet"],
  serve: ["--model", "--host", "--port", "--max-batch-tokens", "--max-run-tokens", "--max-wait-ms", "--max-queue", "--max-body-bytes", "--threads", "--pooling", "--no-normalize"],
  worker: ["--cluster", "--store", "--host", "--port", "--listen-host", "--concurrency", "--journal", "--lock-refresh", "--lock-expiration", "--message-poll", "--health-check", "--k8s-namespace", "--k8s-selector", "--s3-endpoint", "--s3-bucket", "--s3-region", "--s3-prefix"]
}

describe("embedflow --help", () => {
  it("lists every command, on stdout, exit 0; with no command, the same help goes to stderr with exit 2", async () => {
    const c = capture()
    expect(await main(["--help"], c.io)).toBe(0)
    expect(c.errText()).toBe("")
    for (const name of Object.keys(commands)) expect(c.text()).toMatch(new RegExp(`^  ${name} {2,}\\S`, "m"))
    const bare = capture()
    expect(await main([], bare.io)).toBe(2)
    expect(bare.text()).toBe("")
    expect(bare.errText()).toContain("embedflow <subcommand> [flags]")
  })

  for (const [name, flags] of Object.entries(commands)) {
    it(`${name} --help (and -h) shows its usage and each of its flags`, async () => {
      for (const help of ["--help", "-h"]) {
        const c = capture()
        expect(await main([name, help], c.io)).toBe(0)
        expect(c.errText()).toBe("")
        expect(c.text()).toContain(`USAGE\n  embedflow ${name} `)
        for (const flag of flags) expect(c.text(), `${name} ${flag}`).toMatch(new RegExp(`^  ${flag}\\b.* {2,}\\S`, "m"))
      }
    })
  }

  it("--version prints the package's version", async () => {
    const c = capture()
    expect(await main(["--version"], c.io)).toBe(0)
    const { version } = JSON.parse(await fs.readFile(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
    expect(c.text()).toBe(`embedflow v${version}`)
  })
})

describe("bad usage", () => {
  const cases: Array<[ReadonlyArray<string>, RegExp]> = [
    [["frobnicate"], /Unknown subcommand "frobnicate" for "embedflow"/],
    [["vaildate", okGraph], /Did you mean this\?\s+validate/],
    [["run", okGraph, "--bogus"], /Unrecognized flag: --bogus in command embedflow run/],
    [["run", okGraph, "--concurrency", "zero"], /Invalid value for flag --concurrency: "zero"/],
    [["run", okGraph, "--concurrency", "0"], /Invalid value for flag --concurrency: "0"\. Expected: a positive integer/],
    [["run", okGraph, "--store"], /Missing value for flag --store/],
    [["run", okGraph, "--workers", "two"], /Invalid value for flag --workers: "two"\. Expected: expected a non-negative integer or 'auto'/],
    [["run", okGraph, "--workers", "2", "--cluster", "postgres://127.0.0.1:1/x"], /'run' takes --workers or --cluster, not both/],
    [["run", okGraph, "--shard-items", "0"], /Invalid value for flag --shard-items: "0"\. Expected: a positive integer/],
    [["worker"], /Missing required flag: --cluster/],
    [["worker", "--cluster", "postgres://127.0.0.1:1/x", "--port", "0"], /Invalid value for flag --port: "0"\. Expected: a positive integer/],
    [["worker", "--cluster", "postgres://127.0.0.1:1/x", "--lock-expiration", "-1"], /Invalid value for flag --lock-expiration: "-1"/],
    [["worker", "--cluster", "postgres://127.0.0.1:1/x", "--s3-bucket", "b"], /an S3 store needs --s3-endpoint, --s3-bucket/],
    [["run"], /'run' needs a graph file \(or --default\)/],
    [["run", "--default", okGraph], /'run' takes a graph file or --default, not both/],
    [["run", okGraph, "extra.yaml"], /Unexpected positional argument: "extra\.yaml"/],
    [["validate"], /'validate' needs a graph file \(or --default\)/],
    [["validate", okGraph, "--force"], /Unrecognized flag: --force in command embedflow validate/],
    [["graph", okGraph, "--format", "svg"], /Invalid value for flag --format: "svg"\. Expected: "mermaid" \| "dot"/],
    [["gc", "--keep-runs", "-1"], /Invalid value for flag --keep-runs: "-1"\. Expected: a non-negative integer/],
    [["plugins", "--jsn"], /Unrecognized flag: --jsn[\s\S]*Did you mean this\?\s+--json/],
    [["new-plugin"], /Missing required argument: name/],
    [["new-plugin", "Bad_Name"], /Invalid value for argument <name>: "Bad_Name"\. Expected: lower-case letters/],
    [["eval"], /Missing required flag: --model/],
    [["eval", "--model", "m", "--tasks", "STSBenchmark,Nope"], /Invalid value for flag --tasks: "STSBenchmark,Nope"\. Expected: unknown task\(s\) Nope/],
    [["serve"], /Missing required flag: --model/],
    [["serve", "--model"], /Missing value for flag --model/],
    [["serve", "--model", "m", "--threads", "0"], /Invalid value for flag --threads: "0"\. Expected: a positive integer/],
    [["serve", "--model", "m", "--max-wait-ms", "-5"], /Invalid value for flag --max-wait-ms: "-5"\. Expected: a non-negative integer/],
    [["serve", "--model", "m", "--port", "1.5"], /Invalid value for flag --port: "1\.5"/]
  ]
  for (const [argv, message] of cases) {
    it(`embedflow ${argv.map((a) => (a === okGraph ? "ok.yaml" : a)).join(" ")}: exit 2, ${message.source.slice(0, 60)}`, async () => {
      const c = capture()
      expect(await main(argv, c.io)).toBe(2)
      expect(c.text()).toBe("")
      expect(c.errText()).toMatch(message)
      // The help of the command that was meant comes with the error.
      expect(c.errText()).toContain(`USAGE\n  embedflow ${["frobnicate", "vaildate"].includes(argv[0]!) ? "" : `${argv[0]} `}`)
    })
  }
})

describe("--default", () => {
  it("names the built-in graph for validate, graph and run", async () => {
    const v = capture()
    expect(await main(["validate", "--default"], v.io)).toBe(0)
    expect(v.text()).toMatch(/graphs\/default\.yaml: valid \(\d+ nodes/)
    const g = capture()
    expect(await main(["graph", "--default", "--format", "dot"], g.io)).toBe(0)
    expect(g.text()).toMatch(/^digraph/)
    const store = await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-usage-default-"))
    tmp.push(store)
    const r = capture()
    expect(await main(["run", "--default", "--dry-run", "--store", store], r.io)).toBe(0)
    expect(r.text()).toMatch(/^plan for 'default': (\d+) nodes, \1 to run, 0 cached/)
  })
})

describe("options from the environment", () => {
  it("--store falls back to $EMBEDFLOW_STORE, and --store wins over it", async () => {
    const fromEnv = await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-usage-env-"))
    const fromFlag = await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-usage-flag-"))
    tmp.push(fromEnv, fromFlag)
    const saved = process.env.EMBEDFLOW_STORE
    process.env.EMBEDFLOW_STORE = fromEnv
    try {
      const a = capture()
      expect(await main(["gc"], a.io)).toBe(0)
      expect(a.text()).toContain(`store ${fromEnv}:`)
      const b = capture()
      expect(await main(["gc", "--store", fromFlag], b.io)).toBe(0)
      expect(b.text()).toContain(`store ${fromFlag}:`)
    } finally {
      if (saved === undefined) delete process.env.EMBEDFLOW_STORE
      else process.env.EMBEDFLOW_STORE = saved
    }
  })
})

describe("embedflow --completions", () => {
  const script = async (shell: string) => {
    const c = capture()
    expect(await main(["--completions", shell], c.io)).toBe(0)
    expect(c.errText()).toBe("")
    return c.text()
  }

  it("bash: the script completes commands, flags and flag choices in a real bash", async () => {
    const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-completions-")), "embedflow.bash")
    tmp.push(path.dirname(file))
    await fs.writeFile(file, await script("bash"))
    // What bash itself does on <TAB>: the function registered with `complete -F`, COMP_* set, COMPREPLY read.
    const complete = (...words: Array<string>) => {
      const r = spawnSync(
        "bash",
        [
          "-c",
          `source "$0"; fn=$(complete -p embedflow | sed -E 's/.*-F ([^ ]+).*/\\1/')
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=\${#COMP_LINE}; COMPREPLY=()
"$fn" embedflow "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"; printf '%s\\n' "\${COMPREPLY[@]}"`,
          file,
          "embedflow",
          ...words
        ],
        { encoding: "utf8" }
      )
      expect(r.stderr).toBe("")
      return r.stdout.split("\n").filter(Boolean)
    }
    expect(complete("")).toEqual(Object.keys(commands))
    expect(complete("ne")).toEqual(["new-plugin"])
    expect(complete("run", "--con")).toEqual(["--concurrency"])
    expect(complete("run", "--d")).toEqual(expect.arrayContaining(["--default", "--dry-run"]))
    expect(complete("graph", "g.yaml", "--format", "")).toEqual(["mermaid", "dot"])
    expect(complete("serve", "--pooling", "")).toEqual(["mean", "cls", "last-token"])
  })

  it("zsh and fish: scripts that name every command and its flags", async () => {
    const zsh = await script("zsh")
    const fish = await script("fish")
    expect(zsh.startsWith("#compdef embedflow")).toBe(true)
    for (const [name, flags] of Object.entries(commands)) {
      expect(zsh).toContain(`'${name}:`)
      expect(fish).toMatch(new RegExp(`complete -c embedflow .*-a ['"]?${name}\\b`))
      for (const flag of flags) {
        expect(zsh, `zsh ${name} ${flag}`).toContain(flag)
        expect(fish, `fish ${name} ${flag}`).toContain(`-l ${flag.slice(2)}`)
      }
    }
  })
})
