import type { Io } from "../src/index.js"

/** An Io that keeps what the CLI prints: stdout lines, and stderr (lines and progress writes). */
export const capture = () => {
  const out: Array<string> = []
  const err: Array<string> = []
  const stderr = { write: (t: string) => (err.push(t), true), isTTY: false, columns: 80 } as unknown as NodeJS.WriteStream
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), stderr }
  return { io, text: () => out.join("\n"), errText: () => err.join("\n") }
}
