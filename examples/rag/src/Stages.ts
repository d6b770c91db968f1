import { NonNegativeInt, Ports, PositiveInt, Stage, StageError, withDefault } from "@embedflow/core"
import { Effect, Schema } from "effect"
import { checkChunkOptions, chunkDocument, defaultChunkOptions } from "./Chunker.js"

export const chunk = Stage.make({
  name: "rag/chunk",
  version: "1",
  description: "splits texts into overlapping chunks by words or characters; chunk ids are `<text id>#<start>-<end>` (character offsets)",
  params: Schema.Struct({
    unit: withDefault(Schema.Literals(["words", "chars"]), defaultChunkOptions.unit),
    size: withDefault(PositiveInt, defaultChunkOptions.size),
    overlap: withDefault(NonNegativeInt, defaultChunkOptions.overlap)
  }),
  inputs: { texts: Ports.Texts },
  outputs: { chunks: Ports.Texts },
  run: (params, inputs) =>
    Effect.try({
      try: () => {
        checkChunkOptions(params)
        return { chunks: inputs.texts.flatMap((t) => chunkDocument(t.id, t.text, params).map((c) => ({ id: c.id, text: c.text }))) }
      },
      catch: (e) => new StageError({ message: (e as Error).message, cause: e })
    })
})
