/**
 * Salient spans for REALM's salient span masking (Guu et al. 2020, §3.4 "Salient span masking"): named entities and
 * dates. The paper tags entities with a BERT model trained on CoNLL-2003 and dates with a regular expression; we use
 * the maintained rule/lexicon tagger `compromise` for the entities (its Person / Place / Organization tags, plus runs
 * of proper nouns it does not type, such as unknown towns — CoNLL's MISC/unknown-LOC cases) and our own date patterns
 * ("1879", "March 3, 1879", "3 March 1879", "March 1921", "1879–1955", "1870s", "19th century", "79 AD").
 *
 * Spans are [start, end) UTF-16 offsets into the text given. `salientSpansBySentence` runs the tagger once over a
 * whole passage (context helps it) and assigns each span to the sentence of `splitSentences` (src/corpus) that
 * contains it; spans crossing a sentence boundary are dropped. Overlapping candidates are resolved longest first,
 * so "Treaty of Versailles" wins over "Versailles". Throughput: about 10 ms per sentence on one core, so a training
 * run should compute spans once and cache them (they do not depend on the tokenizer).
 */
import { createRequire } from 'node:module';
import type nlpType from 'compromise';
import { splitSentences, type Span } from '../corpus/sentences.js';

let nlpFn: typeof nlpType | null = null;
/** compromise, loaded on first use (its lexicon takes ~1 s to load; importing this module stays cheap). */
function nlp(text: string): ReturnType<typeof nlpType> {
  nlpFn ??= createRequire(import.meta.url)('compromise') as typeof nlpType;
  return nlpFn(text);
}

/** What a salient span is. 'proper' = a proper-noun run the tagger did not type (e.g. an unknown town). */
export type SpanKind = 'person' | 'place' | 'organization' | 'proper' | 'date';

/** One salient span of a text. */
export interface SalientSpan {
  /** Start offset (UTF-16 code units, inclusive). */
  start: number;
  /** End offset (exclusive). */
  end: number;
  /** Entity type or 'date'. */
  kind: SpanKind;
}

/** A sentence of a passage with its salient spans (offsets into the passage). */
export interface SentenceSpans {
  /** The sentence's [start, end) in the passage. */
  sentence: Span;
  /** Its salient spans, sorted by start, non-overlapping. */
  spans: SalientSpan[];
}

/** Which detectors run. */
export interface SpanOptions {
  /** Named entities from compromise (default true). */
  entities?: boolean;
  /** Untyped proper-noun runs as entities of kind 'proper' (default true). */
  properNouns?: boolean;
  /** Date patterns (default true). */
  dates?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Dates (regular expressions)

const MONTH =
  '(?:January|February|March|April|May|June|July|August|September|October|November|December|' +
  'Jan\\.|Feb\\.|Mar\\.|Apr\\.|Jun\\.|Jul\\.|Aug\\.|Sept\\.|Sep\\.|Oct\\.|Nov\\.|Dec\\.)';
const YEAR = '(?:1\\d{3}|20\\d{2})';
const DAY = '(?:[12]\\d|3[01]|0?[1-9])(?:st|nd|rd|th)?';
const ERA = '(?:BCE|BC|AD|CE)';
const DASH = '\\s*[-–—]\\s*';
/** Alternatives, longest forms first (the regex engine takes the first alternative that matches at a position). */
const DATE_RE = new RegExp(
  [
    `${DAY} ${MONTH},? ${YEAR}`, // 3 March 1879
    `${MONTH} ${DAY},? ${YEAR}`, // March 3, 1879
    `${MONTH},? ${YEAR}`, // March 1921
    `${MONTH} ${DAY}(?![\\d])`, // March 3
    `${DAY} ${MONTH}`, // 3 March
    `${YEAR}${DASH}(?:${YEAR}|\\d{2})(?!\\d)`, // 1879–1955, 1914-18
    `(?:${YEAR}|\\d{1,4}) ?${ERA}`, // 79 AD, 300 BC
    `(?:AD|CE) ?\\d{1,4}`, // AD 79
    `${YEAR}s`, // 1870s
    `(?:\\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|` +
      `thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|twenty-first)[- ]century`,
    YEAR,
  ].map((p) => `(?:${p})`).join('|'),
  'g',
);

/** Date spans of `text` found by the patterns (non-overlapping, in order). */
export function findDateSpans(text: string): SalientSpan[] {
  const out: SalientSpan[] = [];
  const re = new RegExp(DATE_RE.source, 'g');
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const start = m.index;
    const end = start + m[0].length;
    // whole tokens only: not inside a longer number or word ("12345", "A1879")
    const before = start > 0 ? text[start - 1] : ' ';
    const after = end < text.length ? text[end] : ' ';
    if (/[\p{L}\p{N}]/u.test(before) || /[\p{L}\p{N}]/u.test(after)) continue;
    out.push({ start, end, kind: 'date' });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Named entities (compromise)

/** The part of compromise's term JSON we read. */
interface NlpTerm {
  text: string;
  pre: string;
  post: string;
  tags: string[];
  offset: { start: number; length: number };
}

/** Lower-case words that may join two proper nouns into one name ("Bank of England", "Ludwig van Beethoven"). */
const LINKS = new Set(['of', 'de', 'der', 'den', 'von', 'van', 'du', 'del', 'della', 'da', 'la', 'le', 'di', 'y', 'al', 'bin', 'ibn']);
/** Punctuation between two terms that ends a name. */
const BREAK = /[,;:()[\]{}"“”!?—–]/;
const NOT_NAME_TAGS = ['Date', 'Month', 'WeekDay', 'Value', 'Pronoun', 'Determiner'];

function isNameTerm(t: NlpTerm): boolean {
  if (NOT_NAME_TAGS.some((x) => t.tags.includes(x))) return false;
  if (!/^\p{Lu}/u.test(t.text)) return false;
  return t.tags.includes('ProperNoun') || t.tags.includes('Person') || t.tags.includes('Place') ||
    t.tags.includes('Organization') || t.tags.includes('Acronym');
}

function kindOf(terms: NlpTerm[]): SpanKind {
  const has = (tag: string): boolean => terms.some((t) => t.tags.includes(tag));
  if (has('Organization')) return 'organization';
  if (has('Person')) return 'person';
  if (has('Place')) return 'place';
  return 'proper';
}

/** Name spans of one tagged sentence: runs of name terms, joined by link words, cut at punctuation. */
function nameRuns(terms: NlpTerm[], properNouns: boolean): SalientSpan[] {
  const out: SalientSpan[] = [];
  let i = 0;
  while (i < terms.length) {
    if (!isNameTerm(terms[i])) {
      i++;
      continue;
    }
    let j = i; // last term of the run
    for (;;) {
      const gap = terms[j].post + (terms[j + 1]?.pre ?? '');
      if (j + 1 >= terms.length || BREAK.test(gap)) break;
      if (isNameTerm(terms[j + 1]) || /^[IVX]+$/.test(terms[j + 1].text)) {
        j++;
        continue;
      }
      // a link word followed by a name term extends the run
      const link = terms[j + 1];
      const gap2 = link.post + (terms[j + 2]?.pre ?? '');
      if (LINKS.has(link.text) && j + 2 < terms.length && !BREAK.test(gap2) && isNameTerm(terms[j + 2])) {
        j += 2;
        continue;
      }
      break;
    }
    const run = terms.slice(i, j + 1);
    const kind = kindOf(run);
    if (kind !== 'proper' || properNouns) {
      const start = run[0].offset.start;
      let end = run[run.length - 1].offset.start + run[run.length - 1].offset.length;
      const last = run[run.length - 1].text;
      if (/['’]s$/.test(last)) end -= 2; // possessive: "Einstein's" -> "Einstein"
      else if (/s['’]$/.test(last)) end -= 1;
      if (end > start) out.push({ start, end, kind });
    }
    i = j + 1;
  }
  return out;
}

/** Named-entity spans of `text` (compromise tags), in order. */
export function findEntitySpans(text: string, opts: { properNouns?: boolean } = {}): SalientSpan[] {
  const properNouns = opts.properNouns ?? true;
  const sentences = nlp(text).json({ offset: true, terms: { offset: true } }) as Array<{ terms: NlpTerm[] }>;
  const out: SalientSpan[] = [];
  for (const s of sentences) out.push(...nameRuns(s.terms, properNouns));
  // offsets come from compromise; make sure they index `text` as we expect (they are UTF-16 offsets)
  return out.filter((sp) => sp.start >= 0 && sp.end <= text.length && text.slice(sp.start, sp.end).trim().length > 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Merging

/** Non-overlapping selection: longest first (ties: dates and typed entities before 'proper'), returned by start. */
export function resolveOverlaps(spans: readonly SalientSpan[]): SalientSpan[] {
  const rank = (k: SpanKind): number => (k === 'proper' ? 1 : 0);
  const sorted = spans.slice().sort((a, b) => (b.end - b.start) - (a.end - a.start) || rank(a.kind) - rank(b.kind) || a.start - b.start);
  const kept: SalientSpan[] = [];
  for (const s of sorted) if (!kept.some((k) => s.start < k.end && k.start < s.end)) kept.push(s);
  return kept.sort((a, b) => a.start - b.start);
}

/** All salient spans of `text` (entities and dates), non-overlapping, sorted by start. */
export function findSalientSpans(text: string, opts: SpanOptions = {}): SalientSpan[] {
  const all: SalientSpan[] = [];
  if (opts.entities ?? true) all.push(...findEntitySpans(text, { properNouns: opts.properNouns }));
  if (opts.dates ?? true) all.push(...findDateSpans(text));
  return resolveOverlaps(all);
}

/** Sentences of a passage (src/corpus splitter) with the salient spans inside each. */
export function salientSpansBySentence(text: string, opts: SpanOptions = {}): SentenceSpans[] {
  const spans = findSalientSpans(text, opts);
  return splitSentences(text).map((sentence) => ({
    sentence,
    spans: spans.filter((s) => s.start >= sentence.start && s.end <= sentence.end),
  }));
}
