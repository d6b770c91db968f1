import { AdamW } from "./AdamW.js"
import type { Head } from "./Head.js"
import { Rng } from "./Rng.js"

/** What the training loops need besides the head: seeded randomness and an optimizer step. */
export interface TrainingTools {
  /** Uniform in [0, 1), seeded. */
  readonly random: () => number
  readonly shuffle: <A>(items: ReadonlyArray<A>) => Array<A>
  /** Applies the accumulated gradients (AdamW) and clears them. */
  readonly step: () => void
}

/** Seeded shuffling and an AdamW step over `head`, shared by the head-training stages. */
export const trainingTools = (head: Head, seed: number, optimizer: { readonly lr: number; readonly weightDecay: number }): TrainingTools => {
  const rng = new Rng(seed)
  const adam = new AdamW(head.params(), optimizer)
  return {
    random: () => rng.next(),
    shuffle: (items) => Array.from(rng.permutation(items.length), (i) => items[i]!),
    step: () => {
      adam.step()
      head.zeroGrad()
    }
  }
}
