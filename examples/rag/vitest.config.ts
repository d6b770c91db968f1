import { defineConfig, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.ts"

// Models are prepared once for the whole run (test/globalSetup.ts) and shared by every file.
export default mergeConfig(shared, defineConfig({ test: { globalSetup: ["./test/globalSetup.ts"] } }))
