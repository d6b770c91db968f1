/**
 * LLM-R's iterations accumulate: each round mines new candidates with the latest retriever, the
 * (existing) reward model scores them, and distillation learns from the rewards of every round so
 * far. `mergeRounds` joins two rounds' rewards per query: the union of the candidates (by id), the
 * later round's score where both have one, best first.
 */
import { Ports } from "@embedflow/core"

type ScoredQuery = Ports.ScoredQuery

export const mergeRounds = (earlier: ReadonlyArray<ScoredQuery>, later: ReadonlyArray<ScoredQuery>): Array<ScoredQuery> => {
  const byId = new Map<string, ScoredQuery>()
  const order: Array<string> = []
  for (const q of [...earlier, ...later]) {
    const prev = byId.get(q.id)
    if (prev === undefined) {
      byId.set(q.id, q)
      order.push(q.id)
      continue
    }
    const candidates = new Map(prev.candidates.map((c) => [c.id, c]))
    for (const c of q.candidates) candidates.set(c.id, c)
    byId.set(q.id, { ...q, candidates: Ports.sortCandidates([...candidates.values()]) })
  }
  return order.map((id) => byId.get(id)!)
}
