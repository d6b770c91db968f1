export * as WorkerPool from "./WorkerPool.js"
export type { WorkerPoolOptions } from "./WorkerPool.js"
