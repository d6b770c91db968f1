import { defineConfig, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.ts"

// Models are prepared once for the whole run (the shared tiny models, and test/globalSetup.ts's
// GloVe encoder) and shared by every file.
export default mergeConfig(shared, defineConfig({ test: { globalSetup: ["../../vitest.tiny-models.ts", "./test/globalSetup.ts"] } }))
