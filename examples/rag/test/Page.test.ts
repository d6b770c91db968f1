import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { makeModelHub, ModelHub } from "@embedflow/models"
import { Effect, Exit, Scope } from "effect"
import { type BrowserContext, chromium } from "playwright-core"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { ingest, makeRag, type RunningServer, startServer } from "../src/index.js"

const CHROMIUM = "/usr/bin/chromium"
const tmp = mkdtempSync(join(tmpdir(), "embedflow-rag-page-"))
const scope = Effect.runSync(Scope.make())
let server: RunningServer
let browser: BrowserContext

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    // Not a skip: CI must provide the browser (Debian package "chromium").
    throw new Error(`headless Chromium not found at ${CHROMIUM}; install Debian's package: apt-get install -y chromium`)
  }
  const rag = await Effect.runPromise(
    Effect.gen(function* () {
      const hub = yield* makeModelHub()
      const indexDir = join(tmp, "index")
      yield* ingest({ folder: resolve(import.meta.dirname, "../docs"), indexDir, encoder: { model: inject("glove") } }).pipe(Effect.provideService(ModelHub, hub))
      return yield* makeRag({ indexDir, lm: { kind: "local", model: join(inject("tinyModels"), "tiny-gpt2") } }).pipe(Effect.provideService(ModelHub, hub))
    }).pipe(Scope.provide(scope))
  )
  server = await startServer(rag, { port: 0 })
  browser = await chromium.launchPersistentContext(join(tmp, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1000, height: 900 }
  })
})

afterAll(async () => {
  await browser?.close()
  await server?.close()
  await Effect.runPromise(Scope.close(scope, Exit.void))
  rmSync(tmp, { recursive: true, force: true })
})

describe("the RAG page in headless Chromium", () => {
  it("answers a typed question and lists the cited chunk from the right file", async () => {
    const page = await browser.newPage()
    // The server's Content-Security-Policy allows the page's own inline script and style by hash: no violation.
    const violations: Array<string> = []
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text())
    })
    await page.goto(server.url)
    await expect.poll(() => page.locator("#info").textContent()).toMatch(/6 files, \d+ chunks/)
    await page.fill("#question", "How does a killed run resume?")
    await page.click("#submit")
    await page.locator("#sources li").first().waitFor()
    expect(await page.locator("#result").isVisible()).toBe(true)
    expect((await page.locator("#answer").textContent())!.length).toBeGreaterThan(0)
    const first = page.locator("#sources li").first()
    expect(await first.locator(".file").textContent()).toBe("caching-and-resume.md")
    expect(await first.locator(".n").textContent()).toBe("[1]")
    expect(await first.locator(".text").textContent()).toMatch(/resume|resumes/)
    expect(await page.locator("#sources li").count()).toBe(4)
    const shot = join(process.env.EMBEDFLOW_SCREENSHOT_DIR ?? tmp, "rag-page.png")
    await page.screenshot({ path: shot, fullPage: true })
    expect(existsSync(shot)).toBe(true)
    expect(violations).toEqual([])
    await page.close()
  })

  it("says so for a question with no hits, and shows the error for an empty question", async () => {
    const page = await browser.newPage()
    await page.goto(server.url)
    await page.fill("#question", "zzqxv qqqzzk")
    await page.click("#submit")
    await expect.poll(() => page.locator("#answer").textContent()).toBe("No passage in the index matches this question.")
    expect(await page.locator("#sources-section").isVisible()).toBe(false)
    await page.fill("#question", "   ")
    await page.click("#submit")
    await expect.poll(() => page.locator("#error").textContent()).toBe("the question is empty; type a question")
    expect(await page.locator("#error").isVisible()).toBe(true)
    await page.close()
  })
})
