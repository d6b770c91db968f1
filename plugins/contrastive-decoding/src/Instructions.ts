/**
 * The four prompts of MultiCSR generation. Each contains `{premise}`. The noisy instruction of a
 * stream is what its instruction is contrasted against; by default it is the *opposite* instruction
 * (the "opposite" variant of instructive decoding), which pushes entailments away from
 * contradictions and back.
 */
export interface Instructions {
  readonly entailment: string
  readonly contradiction: string
  readonly noisyEntailment: string
  readonly noisyContradiction: string
}

const entailment = "Premise: {premise}\nWrite a sentence that is true whenever the premise is true.\nSentence:"
const contradiction = "Premise: {premise}\nWrite a sentence that cannot be true if the premise is true.\nSentence:"

export const defaultInstructions: Instructions = {
  entailment,
  contradiction,
  noisyEntailment: contradiction,
  noisyContradiction: entailment
}

/** Fills `{premise}`; `$` patterns in the premise stay literal. */
export const render = (template: string, premise: string): string => template.split("{premise}").join(premise)

/** Throws naming the template that cannot hold a premise. */
export const validate = (instructions: Instructions): Instructions => {
  for (const [name, t] of Object.entries(instructions)) {
    if (!t.includes("{premise}")) throw new Error(`instruction '${name}' has no '{premise}' placeholder: ${JSON.stringify(t)}`)
  }
  return instructions
}
