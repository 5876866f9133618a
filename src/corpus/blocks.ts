// Cuts documents into REALM retrieval blocks (REALM §3.4, Guu et al. 2020; ORQA): each block is encoded as
// `[CLS] title [SEP] text [SEP]` with at most 288 wordpieces including the three specials. Text is packed
// greedily from whole sentences; a sentence longer than a block is split on words (and a word longer than a block
// on characters). Every block keeps its document id, title and [start, end) character offsets into the document
// text, so `doc.text.slice(start, end) === block.text`. Codes against a minimal tokenizer interface so any
// WordPiece implementation (src/tokenizer) can be plugged in; a tokenizer with offsets is run once per document.
import { splitSentences, splitWords, type Span } from './sentences.js';
import { CorpusError, type CorpusDoc } from './types.js';

/** The part of a WordPiece tokenizer the block cutter needs. */
export interface TokenizerLike {
  /** Wordpieces of `text`, without special tokens. */
  tokenize(text: string): string[];
}

/** A tokenizer that also reports [start, end) offsets of its pieces (flattened), e.g. BertTokenizer. */
export interface OffsetTokenizerLike extends TokenizerLike {
  /** Pieces of `text` without specials; `offsets` = [start0, end0, start1, end1, ...] into `text`. */
  encodeSequence(text: string): { offsets: ArrayLike<number> };
}

/** Counts the wordpieces of a string (no specials). */
export type CountTokens = (text: string) => number;

/** Block cutting configuration. */
export interface BlockConfig {
  /** Maximum wordpieces per block including [CLS], [SEP], [SEP] (REALM: 288). */
  maxTokens: number;
  /** Titles longer than this many wordpieces are shortened word by word (default 64). */
  maxTitleTokens: number;
}

/** REALM's block configuration. */
export const REALM_BLOCK_CONFIG: BlockConfig = { maxTokens: 288, maxTitleTokens: 64 };

/** One retrieval block. */
export interface Block {
  /** Id of the source document. */
  docId: string;
  /** Title shown before the text (`[CLS] title [SEP] text [SEP]`). */
  title: string;
  /** Block text, exactly `doc.text.slice(start, end)`. */
  text: string;
  /** Start character offset into the document text (UTF-16 code units). */
  start: number;
  /** End character offset (exclusive). */
  end: number;
}

/** Wraps a tokenizer (or a count function) as a count function. */
export function toCounter(tok: TokenizerLike | CountTokens): CountTokens {
  return typeof tok === 'function' ? tok : (s: string) => tok.tokenize(s).length;
}

/** Shortens a title word by word until it fits `max` wordpieces (a one-word title is cut by characters). */
function fitTitle(title: string, max: number, count: CountTokens): string {
  if (count(title) <= max) return title;
  const words = title.split(/\s+/).filter(Boolean);
  while (words.length > 1 && count(words.join(' ')) > max) words.pop();
  let t = words.join(' ');
  while (t.length > 0 && count(t) > max) t = t.slice(0, -1);
  return t;
}

/** True when position i of text falls between the two halves of a surrogate pair. */
function insidePair(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return i > 0 && c >= 0xdc00 && c <= 0xdfff && (text.charCodeAt(i - 1) & 0xfc00) === 0xd800;
}

/** Longest prefix end of [start, end) whose wordpiece count is <= budget (at least one code point). */
function fitPrefix(text: string, span: Span, budget: number, count: CountTokens): number {
  let lo = span.start + 1;
  let hi = span.end;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (count(text.slice(span.start, mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  if (lo < span.end && insidePair(text, lo)) lo = lo - 1 > span.start ? lo - 1 : lo + 1;
  return lo;
}

/** Counts the wordpieces of text.slice(start, end). */
type SpanCounter = (start: number, end: number) => number;

/** Breaks a sentence span into pieces of at most `budget` wordpieces: whole when it fits, else words, else characters. */
function units(
  text: string,
  span: Span,
  budget: number,
  spanCount: SpanCounter,
  count: CountTokens,
  splitOnWords: boolean,
): Array<Span & { n: number }> {
  const n = spanCount(span.start, span.end);
  if (n <= budget) return [{ ...span, n }];
  if (splitOnWords) {
    const words = splitWords(text, span);
    if (words.length > 1) return words.flatMap((w) => units(text, w, budget, spanCount, count, false));
  }
  const out: Array<Span & { n: number }> = [];
  let s = span.start;
  while (s < span.end) {
    const e = fitPrefix(text, { start: s, end: span.end }, budget, count);
    out.push({ start: s, end: e, n: count(text.slice(s, e)) });
    s = e;
  }
  return out;
}

/**
 * Span counter from one tokenisation of the whole text, when the tokenizer reports offsets (BertTokenizer's
 * `encodeSequence`): the pieces of a whitespace-delimited span are the pieces whose start falls inside it.
 */
function offsetCounter(tokenizer: TokenizerLike | CountTokens, text: string): SpanCounter | null {
  const enc = (tokenizer as Partial<OffsetTokenizerLike>).encodeSequence;
  if (typeof enc !== 'function') return null;
  const flat = enc.call(tokenizer, text).offsets;
  const starts = new Int32Array(flat.length >> 1);
  for (let i = 0; i < starts.length; i++) starts[i] = flat[2 * i];
  const lowerBound = (x: number): number => {
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return (a, b) => lowerBound(b) - lowerBound(a);
}

/** Cuts one document into blocks; a document with blank text yields no block. */
export function cutBlocks(
  doc: CorpusDoc,
  tokenizer: TokenizerLike | OffsetTokenizerLike | CountTokens,
  config: BlockConfig = REALM_BLOCK_CONFIG,
): Block[] {
  const count = toCounter(tokenizer as TokenizerLike | CountTokens);
  if (config.maxTokens < 3 + config.maxTitleTokens + 8) {
    throw new CorpusError(`block config: maxTokens ${config.maxTokens} leaves too little room after title (${config.maxTitleTokens}) and 3 specials`);
  }
  const title = fitTitle(doc.title, config.maxTitleTokens, count);
  const budget = config.maxTokens - 3 - count(title);
  const text = doc.text;
  const fromOffsets = offsetCounter(tokenizer as TokenizerLike, text);
  const spanCount: SpanCounter = fromOffsets ?? ((a, b) => count(text.slice(a, b)));
  const sentences = splitSentences(text).flatMap((s) => units(text, s, budget, spanCount, count, true));
  const blocks: Block[] = [];
  let i = 0;
  while (i < sentences.length) {
    const start = sentences[i].start;
    let j = i + 1;
    let total = sentences[i].n;
    while (j < sentences.length && total + sentences[j].n <= budget) total += sentences[j++].n;
    // Wordpiece counts are additive across whitespace for BERT; without offsets, verify and back off for any
    // other tokenizer (with offsets the count of a whitespace-delimited span is exact by construction).
    if (!fromOffsets) while (j > i + 1 && count(text.slice(start, sentences[j - 1].end)) > budget) j--;
    const end = sentences[j - 1].end;
    blocks.push({ docId: doc.id, title, text: text.slice(start, end), start, end });
    i = j;
  }
  return blocks;
}

/** Streams the blocks of a corpus in document order. */
export async function* cutCorpus(
  docs: AsyncIterable<CorpusDoc>,
  tokenizer: TokenizerLike | OffsetTokenizerLike | CountTokens,
  config: BlockConfig = REALM_BLOCK_CONFIG,
): AsyncGenerator<Block> {
  for await (const doc of docs) yield* cutBlocks(doc, tokenizer, config);
}
