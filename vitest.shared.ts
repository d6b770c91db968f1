import { defineConfig } from "vitest/config"

// Every package's vitest.config.ts re-exports this. The "source" export condition makes
// workspace packages resolve to their TypeScript sources, so tests never need a build.
export default defineConfig({
  resolve: { conditions: ["source", "import", "module", "node", "default"] },
  ssr: { resolve: { conditions: ["source", "import", "module", "node", "default"], externalConditions: ["source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // The JSON report is what tools/test-summary.mjs adds up across packages.
    reporters: ["default", ["json", { outputFile: "test-results.json" }]],
    server: { deps: { inline: [/@embedflow\//] } }
  }
})
