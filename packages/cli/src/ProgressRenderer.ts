import type { RunEvent } from "@embedflow/core"

const fmtCount = (n: number) => (Number.isInteger(n) ? n.toLocaleString("en-US") : n.toFixed(2))
const fmtSeconds = (s: number) =>
  s < 60 ? `${s.toFixed(s < 10 ? 1 : 0)}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${(s / 3600).toFixed(1)}h`

export const formatProgress = (e: Extract<RunEvent, { type: "node-progress" }>): string => {
  const unit = e.unit ? ` ${e.unit}` : ""
  const count = e.total !== undefined ? `${fmtCount(e.done)}/${fmtCount(e.total)}${unit}` : `${fmtCount(e.done)}${unit}`
  const pct = e.total ? ` ${((100 * e.done) / e.total).toFixed(0)}%` : ""
  const eta = e.etaSeconds !== undefined ? `  ETA ${fmtSeconds(e.etaSeconds)}` : ""
  return `${count}${pct}  ${e.rate >= 100 ? Math.round(e.rate).toLocaleString("en-US") : e.rate.toFixed(1)}${unit || " items"}/s${eta}`
}

/**
 * Renders run events for a person. On a terminal, running nodes share one live status line that is
 * redrawn in place; elsewhere (CI logs) progress is printed as plain lines at most every few seconds.
 */
export class ProgressRenderer {
  private readonly running = new Map<string, string>()
  private lastPlain = new Map<string, number>()
  private statusShown = false

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly interactive: boolean = Boolean(process.stderr.isTTY),
    private readonly plainIntervalMs = 3000
  ) {}

  readonly listener = (e: RunEvent): void => {
    switch (e.type) {
      case "run-started":
        return this.line(`▶ ${e.graph}: ${e.nodes} node${e.nodes === 1 ? "" : "s"}`)
      case "node-cached":
        return this.line(`  ✓ ${e.nodeId} (${e.stage}) cached`)
      case "node-started":
        this.running.set(e.nodeId, "started")
        return this.line(`  … ${e.nodeId} (${e.stage})`)
      case "node-progress": {
        const text = formatProgress(e)
        this.running.set(e.nodeId, text)
        if (this.interactive) return this.status()
        const t = Date.now()
        if (t - (this.lastPlain.get(e.nodeId) ?? 0) >= this.plainIntervalMs || e.done === e.total) {
          this.lastPlain.set(e.nodeId, t)
          this.line(`    ${e.nodeId}: ${text}`)
        }
        return
      }
      case "node-metric":
        return this.line(`    ${e.nodeId}: ${e.name}${e.step !== undefined ? `[${e.step}]` : ""} = ${Number.isInteger(e.value) ? e.value : e.value.toFixed(4)}`)
      case "node-log":
        return this.line(`    ${e.nodeId}: ${e.message}`)
      case "node-warning":
        return this.line(`  ! ${e.nodeId}: ${e.message}`)
      case "node-finished":
        this.running.delete(e.nodeId)
        return this.line(`  ✓ ${e.nodeId} ${fmtSeconds(e.seconds)}`)
      case "node-failed":
        this.running.delete(e.nodeId)
        return this.line(`  ✗ ${e.nodeId}${e.skipped ? " skipped" : " failed"}: ${e.error}`)
      case "run-finished":
        return this.line(
          `${e.ok ? "■ done" : "■ failed"} in ${fmtSeconds(e.seconds)}: ${e.computed} computed, ${e.cached} cached${e.failed ? `, ${e.failed} failed` : ""}`
        )
    }
  }

  /** What --quiet still prints: warnings (a corrupt cache entry replaced) and failures. */
  readonly quietListener = (e: RunEvent): void => {
    if (e.type === "node-warning" || (e.type === "node-failed" && !e.skipped)) this.listener(e)
  }

  private clearStatus() {
    if (this.statusShown) {
      this.out.write("\r\x1b[2K")
      this.statusShown = false
    }
  }

  private status() {
    this.clearStatus()
    const parts = [...this.running].filter(([, t]) => t !== "started").map(([id, t]) => `${id}: ${t}`)
    if (parts.length === 0) return
    const cols = this.out.columns ?? 120
    this.out.write(parts.join("  |  ").slice(0, cols - 1))
    this.statusShown = true
  }

  private line(text: string) {
    this.clearStatus()
    this.out.write(text + "\n")
    if (this.interactive) this.status()
  }
}
