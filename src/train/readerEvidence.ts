/**
 * Distant supervision for the reader warm-up (ours, issue 6; scripts/warm-reader-evidence.ts): from one example's
 * ranked lexical candidates (BM25, own document already excluded), the evidence block is the best-ranked block whose
 * text contains the masked answer string (the same matching as ORQA / DPR and our retrieval evaluation), and the
 * distractors are the best-ranked blocks WITHOUT it — the unhelpful candidates REALM's marginal also puts before the
 * reader (Guu et al. 2020 §2.3). Examples without an answer-bearing candidate give no rows.
 */

/** The evidence block and up to `distractors` unhelpful blocks of one example, or null without evidence. */
export function pickEvidence(
  ranked: readonly number[], containsAnswer: (id: number) => boolean, distractors: number,
): { evidence: number; distractors: number[] } | null {
  if (!(Number.isInteger(distractors) && distractors >= 0)) throw new RangeError(`pickEvidence: distractors must be an integer >= 0, got ${distractors}`);
  const has = ranked.map((id) => containsAnswer(id));
  const at = has.indexOf(true);
  if (at < 0) return null;
  return { evidence: ranked[at], distractors: ranked.filter((_, j) => !has[j]).slice(0, distractors) };
}
