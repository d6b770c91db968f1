import { defineConfig, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.ts"

// PostgreSQL is started once for the whole run (tools/postgres.sh) and its URL handed to the tests.
export default mergeConfig(shared, defineConfig({ test: { globalSetup: ["test/globalSetup.ts"], testTimeout: 240_000, fileParallelism: false } }))
