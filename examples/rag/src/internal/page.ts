import { createHash } from "node:crypto"

/** The single page served at "/": a question box, the answer, and the passages with their files. */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>embedflow RAG</title>
<style>
  :root { --fg: #1d2330; --muted: #5d6678; --line: #dde2ea; --accent: #2456d6; --cited: #e9f0ff; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #f6f7fa; }
  main { max-width: 860px; margin: 0 auto; padding: 28px 20px 60px; }
  h1 { margin: 0; font-size: 22px; }
  #info { color: var(--muted); font-size: 13px; margin: 4px 0 20px; }
  form { display: flex; gap: 8px; }
  #question { flex: 1; padding: 10px 12px; font-size: 16px; border: 1px solid var(--line); border-radius: 8px; }
  #k { width: 64px; padding: 10px 8px; border: 1px solid var(--line); border-radius: 8px; }
  button { padding: 10px 18px; font-size: 15px; border: 0; border-radius: 8px; background: var(--accent); color: #fff; cursor: pointer; }
  button:disabled { opacity: .6; cursor: progress; }
  section { margin-top: 22px; }
  h2 { font-size: 14px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 0 0 8px; }
  #answer { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; white-space: pre-wrap; min-height: 24px; }
  #error { color: #b42318; background: #fff1f0; border: 1px solid #f3c3bd; border-radius: 8px; padding: 10px 12px; }
  #timing { color: var(--muted); font-size: 12px; margin-top: 6px; }
  ol#sources { list-style: none; padding: 0; margin: 0; display: grid; gap: 10px; }
  .source { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 10px 14px; }
  .source.cited { background: var(--cited); border-color: #b9cdfa; }
  .source header { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; font-size: 13px; }
  .n { font-weight: 700; color: var(--accent); }
  .file { font-weight: 600; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
  .where, .score { color: var(--muted); }
  .tag { font-size: 11px; background: var(--accent); color: #fff; border-radius: 4px; padding: 0 6px; }
  .text { margin: 6px 0 0; font-size: 14px; white-space: pre-wrap; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<main>
  <h1>embedflow RAG</h1>
  <div id="info">loading index...</div>
  <form id="ask">
    <input id="question" name="question" autocomplete="off" placeholder="Ask a question about the documents" autofocus>
    <input id="k" name="k" type="number" min="1" max="50" value="4" title="passages to retrieve">
    <button id="submit" type="submit">Ask</button>
  </form>
  <section id="error" hidden></section>
  <section id="result" hidden>
    <h2>Answer</h2>
    <div id="answer"></div>
    <div id="timing"></div>
  </section>
  <section id="sources-section" hidden>
    <h2>Sources</h2>
    <ol id="sources"></ol>
  </section>
</main>
<script>
const $ = (id) => document.getElementById(id)
const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e }
fetch("/api/info").then((r) => r.json()).then((i) => {
  $("info").textContent = i.files + " files, " + i.chunks + " chunks - encoder " + i.encoder + " (" + i.index + ") - LM " + i.lm
}).catch(() => { $("info").textContent = "" })
$("ask").addEventListener("submit", async (ev) => {
  ev.preventDefault()
  $("submit").disabled = true
  $("error").hidden = true
  try {
    const res = await fetch("/api/ask", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ question: $("question").value, k: Number($("k").value) }) })
    const body = await res.json()
    if (!res.ok) throw new Error(body.error || res.statusText)
    $("result").hidden = false
    $("answer").textContent = body.noHits ? "No passage in the index matches this question." : (body.answer || "(the model returned no text)")
    $("timing").textContent = "retrieval " + body.retrieveMs.toFixed(0) + " ms, generation " + body.generateMs.toFixed(0) + " ms" +
      (body.noHits ? "" : body.citations.length ? ", cites " + body.citations.map((n) => "[" + n + "]").join(" ") : ", the answer cites no passage; all passages it was given are listed")
    const list = $("sources")
    list.replaceChildren()
    for (const s of body.sources) {
      const li = el("li", "source" + (s.cited ? " cited" : ""))
      li.dataset.file = s.chunk.file
      const h = el("header")
      h.append(el("span", "n", "[" + s.n + "]"), el("span", "file", s.chunk.file),
        el("span", "where", (s.chunk.heading ? s.chunk.heading + " - " : "") + "chars " + s.chunk.start + "-" + s.chunk.end),
        el("span", "score", "score " + s.score.toFixed(3)))
      if (s.cited) h.append(el("span", "tag", "cited"))
      li.append(h, el("p", "text", s.chunk.text))
      list.append(li)
    }
    $("sources-section").hidden = body.sources.length === 0
  } catch (e) {
    $("error").textContent = String(e.message || e)
    $("error").hidden = false
  } finally {
    $("submit").disabled = false
  }
})
</script>
</body>
</html>
`

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`
const inline = (tag: "script" | "style"): string => {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(PAGE)
  if (!m) throw new Error(`the page has no <${tag}> element`)
  return m[1]!
}

/**
 * Content-Security-Policy for every response: nothing loads but the page's own inline script and
 * style (allowed by hash, so an injected script or style does not run) and fetches to this origin.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src ${sha256(inline("script"))}`,
  `style-src ${sha256(inline("style"))}`,
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join("; ")
