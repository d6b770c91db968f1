import { defineConfig, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.ts"

// The tiny models are built once per run (test/globalSetup.ts) and shared by every test file.
export default mergeConfig(shared, defineConfig({ test: { globalSetup: ["./test/globalSetup.ts"] } }))
