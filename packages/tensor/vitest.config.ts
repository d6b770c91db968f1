import { defineConfig, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.ts"

// The tiny models (for the ONNX weight round trips) are built once for the whole run.
export default mergeConfig(shared, defineConfig({ test: { globalSetup: ["../../vitest.tiny-models.ts"] } }))
