import { Plugin } from "@embedflow/core"
import { hardNegatives, retrieve } from "./Stages.js"

export * as Bm25 from "./Bm25.js"
export * as Tokenizer from "./Tokenizer.js"
export { hardNegatives, retrieve } from "./Stages.js"

export const plugin = Plugin.make({
  name: "bm25",
  version: "0.1.0",
  description: "Okapi BM25 sparse retrieval: ranked candidates and hard-negative mining",
  stages: [retrieve, hardNegatives]
})
