import { defineConfig, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.ts"

// The tiny models are built once for the whole run and shared by every test file.
export default mergeConfig(shared, defineConfig({ test: { globalSetup: ["../../vitest.tiny-models.ts"] } }))
