export * as Bm25 from "./Bm25.js"
export * as Tokenizer from "./Tokenizer.js"
export { hardNegatives, plugin, retrieve } from "./Stages.js"
