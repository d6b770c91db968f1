import { Context, Effect, Exit, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { layerModelHub, ModelHub } from "../src/index.js"
import { run, tiny, tinyDir } from "./helpers.js"

describe("ModelHub", () => {
  it("loads each model once per hub (same folder and options), sharing concurrent loads", async () => {
    const out = await run(
      Effect.gen(function* () {
        const hub = yield* ModelHub
        const [a, b] = yield* Effect.all([hub.encoder({ model: "tiny-bert" }), hub.encoder({ model: tiny("tiny-bert") })], { concurrency: 2 })
        const c = yield* hub.encoder({ model: "tiny-bert", pooling: "cls" })
        const lm1 = yield* hub.causalLM("tiny-gpt2")
        const lm2 = yield* hub.causalLM(tiny("tiny-gpt2"))
        const ce = yield* hub.crossEncoder("tiny-bert-cross")
        const scores = yield* ce.score([["a", "b"]])
        const vec = yield* a.embed(["hello"])
        return { same: a === b, differs: a !== c, lmSame: lm1 === lm2, scores, vec, pooling: c.config.pooling }
      }).pipe(Effect.provide(layerModelHub({ modelsDir: tinyDir() })))
    )
    expect(out.same).toBe(true)
    expect(out.differs).toBe(true)
    expect(out.lmSame).toBe(true)
    expect(out.pooling).toBe("cls")
    expect(out.scores.length).toBe(1)
    expect(out.vec.length).toBe(32)
  })

  it("releases the sessions when the layer's scope closes", async () => {
    const exit = await Effect.runPromise(
      Effect.gen(function* () {
        const enc = yield* Effect.scoped(
          Effect.gen(function* () {
            const ctx = yield* Layer.build(layerModelHub({ modelsDir: tinyDir() }))
            const hub = Context.get(ctx, ModelHub)
            const e = yield* hub.encoder({ model: "tiny-bert" })
            yield* e.embed(["works while the scope is open"])
            return e
          })
        )
        return yield* Effect.exit(enc.embed(["after close"]))
      })
    )
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(Exit.isFailure(exit) ? exit.cause : "")).toMatch(/disposed|released|ModelError/i)
  })

  it("does not cache a failed load", async () => {
    const exits = await run(
      Effect.gen(function* () {
        const hub = yield* ModelHub
        const first = yield* Effect.exit(hub.crossEncoder("no-such-folder"))
        const second = yield* Effect.exit(hub.crossEncoder("no-such-folder"))
        return [first, second]
      }).pipe(Effect.provide(layerModelHub({ modelsDir: tinyDir(), allowRemote: false })))
    )
    for (const e of exits) expect(Exit.isFailure(e) && String(e.cause)).toContain('model "no-such-folder" not found')
  })
})
