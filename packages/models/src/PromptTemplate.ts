import { withDefault } from "@embedflow/core"
import { Schema } from "effect"

/**
 * How labelled examples become an in-context prompt. One template renders every demonstration and
 * the query; for the query the text after `{input}` is cut at `{output}`, and the output becomes the
 * continuation whose likelihood the LLM is asked for.
 */
export interface PromptTemplate {
  /** Renders one example; must contain `{input}` and `{output}`. */
  readonly example: string
  /** Between demonstrations, and between the last demonstration and the query. */
  readonly separator: string
  /** Put once before everything (an instruction); may be empty. */
  readonly prefix: string
}

export const defaultTemplate: PromptTemplate = { example: "Input: {input}\nOutput: {output}", separator: "\n\n", prefix: "" }

/** The template as a stage param; every field has a default. */
export const Param = Schema.Struct({
  example: withDefault(Schema.String, defaultTemplate.example),
  separator: withDefault(Schema.String, defaultTemplate.separator),
  prefix: withDefault(Schema.String, defaultTemplate.prefix)
})

/** What a template needs of an example: the text to show and its gold output. */
export interface Demonstration {
  readonly text: string
  readonly output: string
}

/** A prompt and the continuation scored after it. */
export interface PromptPair {
  readonly prompt: string
  readonly continuation: string
}

/** Throws a message that names the template when it cannot render queries. */
export const validate = (template: PromptTemplate): PromptTemplate => {
  const problems: Array<string> = []
  if (!template.example.includes("{input}")) problems.push("has no '{input}'")
  const at = template.example.indexOf("{output}")
  if (at < 0) problems.push("has no '{output}'")
  else if (template.example.indexOf("{output}", at + 1) >= 0) problems.push("has '{output}' more than once")
  else if (template.example.indexOf("{input}") > at) problems.push("puts '{input}' after '{output}'")
  if (problems.length > 0) {
    throw new Error(`prompt template ${JSON.stringify(template.example)} ${problems.join(", ")}; expected e.g. "Input: {input}\\nOutput: {output}"`)
  }
  return template
}

// split/join, not String.replace: inputs may contain `$&` and other replacement patterns.
const fill = (s: string, input: string, output: string) => s.split("{input}").join(input).split("{output}").join(output)

/** One demonstration as the LLM sees it. */
export const renderDemonstration = (template: PromptTemplate, demo: Demonstration): string =>
  fill(template.example, demo.text, demo.output)

/**
 * The prompt for `query` after `demos` (in the given order, the last one nearest the query), and the
 * continuation `output`. Whitespace before `{output}` goes into the continuation, as GPT-2-style
 * tokenizers attach a leading space to the next word (` location`, not `location`).
 */
export const render = (
  template: PromptTemplate,
  demos: ReadonlyArray<Demonstration>,
  query: { readonly text: string },
  output: string
): PromptPair => {
  const at = template.example.indexOf("{output}")
  const head = fill(template.example.slice(0, at), query.text, "")
  const tail = fill(template.example.slice(at + "{output}".length), query.text, "")
  const trimmed = head.replace(/\s+$/, "")
  const parts = demos.map((d) => renderDemonstration(template, d))
  parts.push(trimmed)
  return { prompt: template.prefix + parts.join(template.separator), continuation: head.slice(trimmed.length) + output + tail }
}
