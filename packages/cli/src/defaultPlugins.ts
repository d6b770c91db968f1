/** Plugin packages every graph can use without naming them (each exports `plugin`). */
export const defaultPluginModules: ReadonlyArray<string> = [
  "@embedflow/data",
  "@embedflow/models",
  "@embedflow/eval",
  "@embedflow/bm25",
  "@embedflow/contrastive-decoding",
  "@embedflow/self-curation",
  "@embedflow/false-negative-masker",
  "@embedflow/contrastive-trainer",
  "@embedflow/llm-scorer",
  "@embedflow/reward-cross-encoder",
  "@embedflow/kl-distiller",
  "@embedflow/prompt-eol",
  "@embedflow/faiss-index",
  "@embedflow/pit"
]
