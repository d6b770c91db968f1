import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { readModelCard } from "@embedflow/models"
import { matrix, Mlp } from "@embedflow/tensor"
import * as Folder from "../src/RewardModelFolder.js"

describe("RewardModelFolder", () => {
  it("writes a head that reads back to the same scores, and names a folder that is not a reward model", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "reward-folder-"))
    try {
      const head = Mlp.make({ inputDim: 4, hiddenDim: 3, outputDim: 1, seed: 7 })
      const config: Folder.Config = {
        type: "embedflow/reward-cross-encoder",
        backbone: { model: "/models/tiny-bert", pooling: "cls", normalize: true, maxLength: 128 },
        head: { kind: "mlp", inputDim: 4, hiddenDim: 3 }
      }
      await Folder.write(path.join(dir, "m"), config, head)
      const loaded = await Folder.read(path.join(dir, "m"))
      expect(loaded.config).toEqual(config)
      const card = readModelCard(path.join(dir, "m"))!
      expect(card).toMatchObject({ library_name: "embedflow", pipeline_tag: "text-ranking", base_model: "/models/tiny-bert" })
      expect(await fs.readFile(path.join(dir, "m", "README.md"), "utf8")).toContain("a mlp head (4 -> 1) over the frozen backbone `/models/tiny-bert`")
      const x = Float32Array.from([0.1, -0.2, 0.3, 0.4, 1, 0, -1, 0.5])
      expect(Array.from(loaded.head.predict(matrix(2, 4, x)).data)).toEqual(Array.from(head.predict(matrix(2, 4, x)).data))
      await expect(Folder.read(dir)).rejects.toThrow(/cannot read a reward model config.*reward-cross-encoder\/train/)
    } finally {
      await fs.rm(dir, { recursive: true, force: true })
    }
  })
})
