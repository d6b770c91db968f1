import { describe, expect, it } from "vitest"
import { PromptTemplate } from "../src/index.js"

describe("PromptTemplate", () => {
  const t = PromptTemplate.defaultTemplate

  it("renders demonstrations then the query, moving the space before the output into the continuation", () => {
    const pair = PromptTemplate.render(t, [{ text: "Where is Rome ?", output: "location" }], { text: "Who wrote Hamlet ?" }, "human")
    expect(pair.prompt).toBe("Input: Where is Rome ?\nOutput: location\n\nInput: Who wrote Hamlet ?\nOutput:")
    expect(pair.continuation).toBe(" human")
  })

  it("keeps replacement patterns in inputs literally", () => {
    const pair = PromptTemplate.render(t, [], { text: "costs $& and $1" }, "x")
    expect(pair.prompt).toBe("Input: costs $& and $1\nOutput:")
  })

  it("applies the prefix once and a custom separator", () => {
    const custom = { example: "{input} => {output}", separator: " | ", prefix: "Classify. " }
    const pair = PromptTemplate.render(custom, [{ text: "a", output: "1" }, { text: "b", output: "2" }], { text: "c" }, "3")
    expect(pair.prompt).toBe("Classify. a => 1 | b => 2 | c =>")
    expect(pair.continuation).toBe(" 3")
  })

  it("rejects templates that cannot render a query, naming the problem", () => {
    expect(() => PromptTemplate.validate({ ...t, example: "Q: {input}" })).toThrow(/has no '\{output\}'/)
    expect(() => PromptTemplate.validate({ ...t, example: "{output} {input}" })).toThrow(/after '\{output\}'/)
    expect(PromptTemplate.validate(t)).toBe(t)
  })
})
