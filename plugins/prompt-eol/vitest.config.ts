import { defineConfig, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.ts"

// The tiny models are built once for the whole run (test/globalSetup.ts) and shared by every file.
export default mergeConfig(shared, defineConfig({ test: { globalSetup: ["./test/globalSetup.ts"] } }))
