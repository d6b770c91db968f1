export * as EmbeddingCache from "./EmbeddingCache.js"
export * as RewardModel from "./RewardModel.js"
export * as Training from "./internal/training.js"
