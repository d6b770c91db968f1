import * as fs from "node:fs/promises"
import * as path from "node:path"
import { ArtifactError, ArtifactStore, makeFileSystem, type Manifest } from "@embedflow/core"
import { AwsClient } from "aws4fetch"
import { Effect, Layer } from "effect"

export interface S3StoreOptions {
  /** The service's URL, e.g. `https://s3.eu-west-1.amazonaws.com` or `http://minio:9000` (path-style requests). */
  readonly endpoint: string
  readonly bucket: string
  readonly region?: string | undefined
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string | undefined
  /** Where in the bucket the store lives (default: its root), e.g. `embedflow/`. */
  readonly prefix?: string | undefined
  /** This process's own folder: entries downloaded from the bucket (read from here), run folders, scratch. */
  readonly localRoot: string
}

/**
 * An ArtifactStore whose cache entries live in an S3-compatible bucket, for runners that share no
 * file system: an entry is `cache/<key>/<file>` objects plus `cache/<key>/manifest.json`, put last
 * (with `If-None-Match: *` where the service honours it, so the first writer wins as the rename does
 * on a file system; the others' copies are equal work under an equal key). Entries are written and
 * read through a local file-system store: written there first, then uploaded; downloaded into it
 * when missing, then read and checked file by file against the manifest's sha256 as usual. Run
 * folders, scratch folders and gc stay local; objects in the bucket are never deleted but for a
 * corrupt entry's manifest (expire old ones with a bucket lifecycle rule).
 */
export const make = (options: S3StoreOptions): ArtifactStore["Service"] => {
  const local = makeFileSystem(options.localRoot)
  const client = new AwsClient({
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
    service: "s3",
    region: options.region ?? "us-east-1"
  })
  const base = `${options.endpoint.replace(/\/+$/, "")}/${encodeURIComponent(options.bucket)}/${options.prefix ?? ""}`
  const objectUrl = (key: string, file: string) => `${base}cache/${key}/${file.split(path.sep).map(encodeURIComponent).join("/")}`

  const call = async (key: string, what: string, url: string, init: RequestInit, accept: ReadonlyArray<number> = [200]) => {
    const response = await client.fetch(url, init)
    if (!accept.includes(response.status)) {
      const body = await response.text().catch(() => "")
      throw new ArtifactError({ key, message: `${what}: ${init.method ?? "GET"} ${url} answered ${response.status} ${body.slice(0, 200)}` })
    }
    return response
  }
  const attempt = <A>(key: string, what: string, f: () => Promise<A>) =>
    Effect.tryPromise({
      try: f,
      catch: (e) => (e instanceof ArtifactError ? e : new ArtifactError({ key, message: `${what}: ${e instanceof Error ? e.message : String(e)}`, cause: e }))
    })

  const remoteHas = (key: string) =>
    attempt(key, "cannot reach the bucket", async () => (await call(key, "cannot check the entry", objectUrl(key, "manifest.json"), { method: "HEAD" }, [200, 404])).status === 200)

  /** The entry's objects into a scratch folder, then renamed into the local cache (first one wins). */
  const download = (key: string) =>
    Effect.acquireUseRelease(
      local.makeScratch(key),
      (scratch) =>
        attempt(key, "cannot download the entry", async () => {
          const manifestText = await (await call(key, "cannot read the manifest", objectUrl(key, "manifest.json"), {})).text()
          const manifest = JSON.parse(manifestText) as Manifest
          const dir = path.join(scratch, "entry")
          for (const file of Object.keys(manifest.files ?? {})) {
            const body = new Uint8Array(await (await call(key, `cannot read ${file}`, objectUrl(key, file), {})).arrayBuffer())
            await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true })
            await fs.writeFile(path.join(dir, file), body)
          }
          await fs.writeFile(path.join(dir, "manifest.json"), manifestText)
          const final = local.entryDir(key)
          await fs.mkdir(path.dirname(final), { recursive: true })
          await fs.rename(dir, final).catch((e: NodeJS.ErrnoException) => {
            if (e.code !== "ENOTEMPTY" && e.code !== "EEXIST") throw e
          })
        }),
      (scratch) => local.removeScratch(scratch).pipe(Effect.ignore)
    )

  const upload = (key: string, replace: boolean) =>
    attempt(key, "cannot upload the entry", async () => {
      const dir = local.entryDir(key)
      const manifestText = await fs.readFile(path.join(dir, "manifest.json"), "utf8")
      const manifest = JSON.parse(manifestText) as Manifest
      for (const file of Object.keys(manifest.files ?? {})) {
        await call(key, `cannot upload ${file}`, objectUrl(key, file), { method: "PUT", body: await fs.readFile(path.join(dir, file)) })
      }
      // The manifest last: until it is there the entry does not exist for readers. 412: another writer won.
      await call(key, "cannot upload the manifest", objectUrl(key, "manifest.json"), { method: "PUT", body: manifestText, headers: replace ? {} : { "If-None-Match": "*" } }, [200, 412])
    })

  return ArtifactStore.of({
    ...local,
    has: (key) => local.has(key).pipe(Effect.flatMap((here) => (here ? Effect.succeed(true) : remoteHas(key).pipe(Effect.orElseSucceed(() => false))))),
    read: (key, ports) =>
      Effect.gen(function* () {
        if (!(yield* local.has(key))) yield* download(key)
        return yield* local.read(key, ports)
      }),
    write: (manifest, ports, values, writeOptions) =>
      Effect.gen(function* () {
        const replace = writeOptions?.replace === true
        if (!replace && (yield* remoteHas(manifest.key))) return
        yield* local.write(manifest, ports, values, writeOptions)
        yield* upload(manifest.key, replace)
      }),
    remove: (key) =>
      Effect.gen(function* () {
        // The manifest first (the entry is then absent for every store), then the files it lists.
        const files = yield* Effect.promise(() =>
          fs.readFile(path.join(local.entryDir(key), "manifest.json"), "utf8").then(
            (t) => Object.keys((JSON.parse(t) as { files?: Record<string, unknown> }).files ?? {}),
            () => [] as Array<string>
          )
        )
        yield* attempt(key, "cannot remove the entry", async () => {
          await call(key, "cannot remove the manifest", objectUrl(key, "manifest.json"), { method: "DELETE" }, [200, 204, 404])
          for (const file of files) await call(key, `cannot remove ${file}`, objectUrl(key, file), { method: "DELETE" }, [200, 204, 404])
        })
        yield* local.remove(key)
      }),
    quarantine: (key) =>
      Effect.gen(function* () {
        // A corrupt copy may be the bucket's: take its manifest away so the entry is computed again.
        yield* attempt(key, "cannot remove the entry", () => call(key, "cannot remove the manifest", objectUrl(key, "manifest.json"), { method: "DELETE" }, [200, 204, 404]))
        return yield* local.quarantine(key)
      })
  })
}

export const layer = (options: S3StoreOptions): Layer.Layer<ArtifactStore> => Layer.succeed(ArtifactStore, make(options))
