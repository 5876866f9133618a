// Answer matching for open-domain QA retrieval recall (DrQA `has_answer`, as used by ORQA, REALM §4 and DPR):
// a block "contains an answer" when the normalised answer's token sequence occurs in the normalised block text
// (lower-case, accents stripped, punctuation dropped, articles a/an/the dropped), or — for CuratedTREC, whose
// answers are regular expressions — when the regex matches the raw text case-insensitively.
import { foldCase } from '../retriever/bm25Analyzer.js';

/** How the answers of a question are matched. */
export type AnswerType = 'string' | 'regex';

/** Options of answer normalisation. */
export interface MatchOptions {
  /** Drop the articles a, an, the from passage and answer tokens (default true, SQuAD normalize_answer). */
  stripArticles?: boolean;
}

const ARTICLES = new Set(['a', 'an', 'the']);

/** Normalised token string of a text, space-padded: " tok tok tok " (empty text → " "). */
export function normalizeForMatch(text: string, options: MatchOptions = {}): string {
  const strip = options.stripArticles ?? true;
  const tokens = foldCase(text).split(/[^\p{L}\p{N}]+/u).filter((t) => t !== '' && !(strip && ARTICLES.has(t)));
  return ` ${tokens.join(' ')} `;
}

/** True when one of the literal answers occurs as a whole-token sequence in the text. */
export function hasAnswer(text: string, answers: readonly string[], options: MatchOptions = {}): boolean {
  const norm = normalizeForMatch(text, options);
  return answers.some((a) => {
    const na = normalizeForMatch(a, options);
    return na.length > 2 && norm.includes(na);
  });
}

/** Compiles CuratedTREC answer patterns (`new RegExp(a, 'i')`); an invalid pattern is dropped with a warning. */
export function compileAnswerRegexes(patterns: readonly string[], warn: (message: string) => void = console.warn): RegExp[] {
  const out: RegExp[] = [];
  for (const p of patterns) {
    try {
      out.push(new RegExp(p, 'i'));
    } catch (e) {
      warn(`invalid answer regex ${JSON.stringify(p)} treated as no match: ${(e as Error).message}`);
    }
  }
  return out;
}

/** True when one of the regex answers matches the text (case-insensitive; invalid patterns never match). */
export function regexMatch(text: string, patterns: readonly string[] | readonly RegExp[], warn?: (message: string) => void): boolean {
  const res = patterns.length > 0 && typeof patterns[0] === 'string' ? compileAnswerRegexes(patterns as string[], warn) : (patterns as RegExp[]);
  return res.some((r) => r.test(text));
}

/** A reusable matcher for one question: `(text) => contains an answer`. */
export function answerMatcher(
  answers: readonly string[],
  type: AnswerType,
  options: MatchOptions & { warn?: (message: string) => void } = {},
): { matches(text: string, normalized?: string): boolean } {
  if (type === 'regex') {
    const res = compileAnswerRegexes(answers, options.warn);
    return { matches: (text) => res.some((r) => r.test(text)) };
  }
  const norms = answers.map((a) => normalizeForMatch(a, options)).filter((n) => n.length > 2);
  return {
    matches: (text, normalized) => {
      const t = normalized ?? normalizeForMatch(text, options);
      return norms.some((n) => t.includes(n));
    },
  };
}
