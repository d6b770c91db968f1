import { defineConfig, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.ts"

// The full GloVe model (~270 MiB, ~12 s to build) is built once per run into the cached, stamped
// models/glove-6b-100d folder; an up-to-date folder costs one hash of the vectors file.
export default mergeConfig(shared, defineConfig({ test: { globalSetup: ["test/globalSetup.ts"] } }))
