import * as fs from "node:fs"
import * as path from "node:path"
import { AwsClient } from "aws4fetch"
import { PortType, type Vectors } from "@embedflow/core"
import { Effect, Schema } from "effect"
import S3rver from "s3rver"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import * as S3Store from "../src/S3Store.js"
import { countingStore, freshDatabase, readJournal, type RunnerProcess, runGraph, runNodes, saltedGraph, sameVectors, startRunner, tempDir, waitForCluster } from "./helpers.js"

// s3rver: an S3-compatible server from npm, in this process (it accepts any credentials it is configured with).
const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" }
const bucket = "embedflow"
let server: S3rver
let endpoint: string
const dir = tempDir()

beforeAll(async () => {
  server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: path.join(dir, "s3"), configureBuckets: [{ name: bucket }] })
  endpoint = `http://127.0.0.1:${(await server.run()).port}`
})

afterAll(async () => {
  await server.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

const storeAt = (name: string, prefix = "") => S3Store.make({ endpoint, bucket, prefix, ...credentials, localRoot: path.join(dir, name) })

const Rows = PortType.records("S3Rows", Schema.Struct({ id: Schema.String, x: Schema.Number }))
const Vecs = PortType.vectors("S3Vectors")
const ports = { rows: Rows, vectors: Vecs }
const manifest = (key: string) => ({ key, stage: "test/s3", version: "1", nodeId: "n", params: {}, inputs: {}, ports: {}, createdAt: new Date().toISOString(), seconds: 0 })
const values = { rows: [{ id: "a", x: 1 }, { id: "b", x: 2 }], vectors: { dim: 2, count: 2, data: new Float32Array([1, 2, 3, 4]), ids: ["a", "b"] } satisfies Vectors }

describe("S3Store", () => {
  it("shares entries between stores with their own local folders, checks them, and quarantines a corrupt one", async () => {
    const [a, b, c] = [storeAt("a", "unit/"), storeAt("b", "unit/"), storeAt("c", "unit/")]
    const key = "ab".repeat(32)
    expect(await Effect.runPromise(b.has(key))).toBe(false)
    await Effect.runPromise(a.write(manifest(key), ports, values))
    expect(await Effect.runPromise(b.has(key))).toBe(true)
    const read = await Effect.runPromise(b.read(key, ports))
    expect(read.rows).toEqual(values.rows)
    expect(Array.from((read.vectors as Vectors).data)).toEqual([1, 2, 3, 4])
    expect(fs.existsSync(path.join(b.entryDir(key), "manifest.json"))).toBe(true)
    // A corrupt object in the bucket: a fresh reader refuses it, and quarantine takes the entry away for all.
    const file = Object.keys(JSON.parse(fs.readFileSync(path.join(a.entryDir(key), "manifest.json"), "utf8")).files).find((f) => f.startsWith("vectors"))!
    const aws = new AwsClient({ ...credentials, service: "s3", region: "us-east-1" })
    const put = await aws.fetch(`${endpoint}/${bucket}/unit/cache/${key}/${file}`, { method: "PUT", body: "garbage" })
    expect(put.status).toBe(200)
    const corrupt = await Effect.runPromise(Effect.flip(c.read(key, ports)))
    expect(corrupt._tag).toBe("ArtifactCorruptError")
    await Effect.runPromise(c.quarantine(key))
    expect(await Effect.runPromise(storeAt("d", "unit/").has(key))).toBe(false)
  })

  it("carries sharded runs between three runners that share no folder, only the bucket (folder inputs included)", async () => {
    const N = 72
    const ROUNDS = 400_000
    const reference = await runGraph(countingStore(path.join(dir, "reference")).store, N, ROUNDS)
    const url = freshDatabase(inject("pgUrl"))
    const s3Args = ["--s3-endpoint", endpoint, "--s3-bucket", bucket, "--s3-prefix", "run/"]
    const env = { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey }
    const runners: Array<RunnerProcess> = []
    try {
      for (const i of [0, 1, 2]) runners.push(await startRunner({ url, store: path.join(dir, `runner-${i}`), dir, args: s3Args, env }))
      await waitForCluster(url, 3)
      const { store, writes } = countingStore(storeAt("client", "run/"))
      const clustered = await runGraph(store, N, ROUNDS, { url })
      expect(sameVectors(clustered, reference)).toBe(true)
      const stored = runners.flatMap((r) => readJournal(r.journal)).filter((l) => l.event === "stored")
      expect(stored.map((l) => l.shard).sort()).toEqual(Array.from({ length: N / 8 }, (_, i) => `embed#${i}`).sort())
      expect(writes.filter((w) => /^embed#\d+$/.test(w))).toEqual([])
      expect(runners.filter((r) => readJournal(r.journal).some((l) => l.event === "stored")).length).toBeGreaterThanOrEqual(2)
      // Every shard is an entry in the bucket (the run read them from there: its folder is not the runners').
      const aws = new AwsClient({ ...credentials, service: "s3", region: "us-east-1" })
      for (const l of stored) expect((await aws.fetch(`${endpoint}/${bucket}/run/cache/${l.key}/manifest.json`, { method: "HEAD" })).status).toBe(200)
      expect(fs.existsSync(path.join(dir, "client", "cache", stored[0]!.key.slice(0, 2), stored[0]!.key))).toBe(true)

      // A folder input travels as its entry: the runners download it from the bucket.
      const local = await runNodes(countingStore(path.join(dir, "salted-reference")).store, saltedGraph)
      const remote = await runNodes(storeAt("client", "run/"), saltedGraph, url)
      expect(sameVectors(remote.salted!.outputs.vectors as Vectors, local.salted!.outputs.vectors as Vectors)).toBe(true)
      const folderKey = remote.folder!.key
      expect([0, 1, 2].some((i) => fs.existsSync(path.join(dir, `runner-${i}`, "cache", folderKey.slice(0, 2), folderKey, "dir", "salt.txt")))).toBe(true)
    } finally {
      await Promise.all(runners.map((r) => r.kill()))
    }
  })
})
