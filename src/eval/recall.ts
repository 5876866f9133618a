// Retrieval recall@k for open-domain QA (ORQA / DPR "top-k retrieval accuracy", used for REALM's retriever
// analysis): the share of questions for which at least one of the top-k retrieved blocks contains an answer.
import { answerMatcher, normalizeForMatch, type MatchOptions } from './answers.js';
import type { QaExample } from './qa.js';

/** A retrieved block as seen by the evaluation. */
export interface RetrievedText {
  /** Block id (used to cache normalised text). */
  id: number | string;
  /** Text the answer is searched in. */
  text: string;
}

/** Retrieves the top `k` blocks for a question, best first. */
export type RetrieveFn = (question: string, k: number) => RetrievedText[] | Promise<RetrievedText[]>;

/** Result of a recall evaluation. */
export interface RecallResult {
  /** Number of questions. */
  n: number;
  /** Recall in [0, 1] per cutoff k. */
  recall: Record<number, number>;
  /** Per question: 0-based rank of the first block containing an answer, −1 if none in the top max(ks). [n] */
  firstHit: Int32Array;
}

/** Options of `recallAtK`. */
export interface RecallOptions extends MatchOptions {
  /** Called every 500 questions with (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Warning sink for invalid regex answers. */
  warn?: (message: string) => void;
}

/** Evaluates recall@k for each k in `ks` (default 1, 5, 20, 100) over the questions. */
export async function recallAtK(
  retrieve: RetrieveFn,
  questions: readonly QaExample[],
  ks: readonly number[] = [1, 5, 20, 100],
  options: RecallOptions = {},
): Promise<RecallResult> {
  if (questions.length === 0) throw new RangeError('recallAtK: no questions');
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1)) throw new RangeError(`recallAtK: bad ks ${ks.join(',')}`);
  const maxK = Math.max(...ks);
  const cache = new Map<number | string, string>();
  const firstHit = new Int32Array(questions.length).fill(-1);
  for (let q = 0; q < questions.length; q++) {
    const ex = questions[q];
    const m = answerMatcher(ex.answers, ex.answerType, options);
    const hits = await retrieve(ex.question, maxK);
    for (let r = 0; r < Math.min(hits.length, maxK); r++) {
      const h = hits[r];
      let norm: string | undefined;
      if (ex.answerType === 'string') {
        norm = cache.get(h.id);
        if (norm === undefined) {
          norm = normalizeForMatch(h.text, options);
          cache.set(h.id, norm);
        }
      }
      if (m.matches(h.text, norm)) {
        firstHit[q] = r;
        break;
      }
    }
    if (options.onProgress && (q + 1) % 500 === 0) options.onProgress(q + 1, questions.length);
  }
  const recall: Record<number, number> = {};
  for (const k of ks) {
    let c = 0;
    for (const r of firstHit) if (r >= 0 && r < k) c++;
    recall[k] = c / questions.length;
  }
  return { n: questions.length, recall, firstHit };
}
