// Rule-based sentence splitter returning character spans, used to cut documents into REALM blocks on sentence
// boundaries (REALM §3.4 / ORQA: blocks are formed from whole sentences where possible). A boundary is sentence-final
// punctuation (. ! ?, plus closing quotes/brackets) followed by whitespace and a likely sentence start, or a line
// break; common abbreviations and single-letter initials ("Mr.", "e.g.", "J. K.") do not end a sentence.

/** A [start, end) character span of the source string, trimmed of surrounding whitespace. */
export interface Span {
  start: number;
  end: number;
}

const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'ft', 'vs', 'etc', 'e.g', 'i.e', 'cf', 'al', 'no', 'vol',
  'inc', 'ltd', 'co', 'corp', 'gen', 'col', 'lt', 'sgt', 'capt', 'rev', 'gov', 'sen', 'rep', 'jan', 'feb', 'mar',
  'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'approx', 'fig', 'op', 'ca', 'c', 'u.s', 'u.k',
]);

/** Splits `text` into sentence spans covering all its non-whitespace content, in order. */
export function splitSentences(text: string): Span[] {
  const spans: Span[] = [];
  const boundary = /([.!?]+["'”’)\]]*)(\s+)(?=["'“‘(\[]?[\p{Lu}\p{N}])|\n\s*/gu;
  let from = 0;
  const push = (end: number): void => {
    let s = from;
    let e = end;
    while (s < e && /\s/.test(text[s])) s++;
    while (e > s && /\s/.test(text[e - 1])) e--;
    if (e > s) spans.push({ start: s, end: e });
  };
  for (let m = boundary.exec(text); m !== null; m = boundary.exec(text)) {
    if (m[1] !== undefined) {
      const before = text.slice(Math.max(from, m.index - 32), m.index); // enough for any abbreviation
      const lastWord = /([\p{L}.]+)$/u.exec(before)?.[1] ?? '';
      const w = lastWord.toLowerCase().replace(/^\.+|\.+$/g, '');
      const isInitial = /^\p{Lu}$/u.test(lastWord);
      if (m[1] === '.' && (ABBREVIATIONS.has(w) || isInitial)) continue;
      push(m.index + m[1].length);
    } else {
      push(m.index);
    }
    from = m.index + m[0].length;
  }
  push(text.length);
  return spans;
}

/** Splits a span into whitespace-delimited word spans. */
export function splitWords(text: string, span: Span): Span[] {
  const out: Span[] = [];
  const re = /\S+/g;
  re.lastIndex = span.start;
  for (let m = re.exec(text); m !== null && m.index < span.end; m = re.exec(text)) {
    out.push({ start: m.index, end: Math.min(m.index + m[0].length, span.end) });
  }
  return out;
}
