/**
 * Masking strategies for REALM pre-training (Guu et al. 2020, §3.4 and the Table 4 ablation): turn a sentence into a
 * masked example x with its targets y.
 *
 * - 'salient' (the paper's default): one salient span (named entity or date, ./spans.ts) per sentence, chosen
 *   uniformly among the sentence's spans; every wordpiece that lies inside the span is replaced by [MASK] (the
 *   character span is mapped to wordpieces through the tokenizer's offsets, as REALM's featurizer does: only pieces
 *   strictly inside the span are masked).
 * - 'random-span' (ablation, SpanBERT-style): one span of whole words per sentence, length ~ Geometric(p) clipped to
 *   `maxSpanWords`.
 * - 'random-token' (ablation, BERT): each wordpiece chosen with probability `tokenProb` (at least one); 80% → [MASK],
 *   10% → a random token, 10% unchanged.
 *
 * An example holds the wordpieces of x WITHOUT [CLS]/[SEP] (the query embedder and the knowledge-augmented encoder
 * add their own), `labels` = the original id at each target position and -100 elsewhere, and the answer string.
 */
import type { Rng } from '../engine/index.js';
import type { Span } from '../corpus/sentences.js';
import { IGNORE_LABEL } from './batch.js';
import { salientSpansBySentence, type SalientSpan, type SpanKind, type SpanOptions } from './spans.js';

export { IGNORE_LABEL };

/** What masking needs from a tokenizer (BertTokenizer fits). */
export interface MaskingTokenizer {
  /** Id of [MASK]. */
  readonly maskId: number;
  /** Vocabulary size (random replacement tokens are drawn from it). */
  readonly vocabSize: number;
  /** Wordpieces of `text` without specials: ids, flattened [start, end) offsets into `text`, word index per piece. */
  encodeSequence(text: string): { ids: ArrayLike<number>; offsets: ArrayLike<number>; wordIds?: ArrayLike<number> };
  /** True for special tokens (never drawn as random replacements). */
  isSpecialId?(id: number): boolean;
}

/** Masking strategy (see the file comment). */
export type MaskingStrategy = 'salient' | 'random-span' | 'random-token';

/** Masking settings. */
export interface MaskingConfig {
  /** Strategy; 'salient' is REALM's. */
  strategy: MaskingStrategy;
  /** Most wordpieces of x kept (longer sentences are cut; a span beyond the cut is not used). */
  maxTokens: number;
  /** random-span: success probability of the geometric span length (in words). */
  spanP: number;
  /** random-span: longest span in words. */
  maxSpanWords: number;
  /** random-token: probability that a wordpiece is a target. */
  tokenProb: number;
  /** Salient-span detectors (entities / proper nouns / dates). */
  spans: SpanOptions;
}

/** Defaults: salient spans, x at most 62 wordpieces (64 with [CLS]/[SEP]), SpanBERT / BERT ablation settings. */
export const MASKING_DEFAULTS: MaskingConfig = {
  strategy: 'salient', maxTokens: 62, spanP: 0.2, maxSpanWords: 10, tokenProb: 0.15, spans: {},
};

/** One masked example. */
export interface MaskedExample {
  /** Wordpieces of x with the targets masked, no specials [n]. */
  inputIds: Int32Array;
  /** Original id at target positions, IGNORE_LABEL elsewhere [n]. */
  labels: Int32Array;
  /** Target positions into inputIds (ascending) [M]. */
  maskedPositions: Int32Array;
  /** The masked text: the sentence from the first target piece's start to the last one's end. */
  answer: string;
  /** The unmasked sentence. */
  text: string;
  /** Character span of the masked text in `text` (for random-token: from first to last target). */
  span: Span;
  /** Salient span kind, or the ablation strategy name. */
  kind: SpanKind | 'random-span' | 'random-token';
}

interface Pieces {
  ids: Int32Array;
  starts: Int32Array;
  ends: Int32Array;
  words: Int32Array;
}

function piecesOf(tok: MaskingTokenizer, text: string, maxTokens: number): Pieces {
  const enc = tok.encodeSequence(text);
  const n = Math.min(enc.ids.length, maxTokens);
  const p: Pieces = { ids: new Int32Array(n), starts: new Int32Array(n), ends: new Int32Array(n), words: new Int32Array(n) };
  let word = -1;
  for (let i = 0; i < n; i++) {
    p.ids[i] = enc.ids[i];
    p.starts[i] = enc.offsets[2 * i];
    p.ends[i] = enc.offsets[2 * i + 1];
    // word index: the tokenizer's, else a new word whenever the previous piece does not touch this one
    if (enc.wordIds) word = enc.wordIds[i];
    else if (i === 0 || p.starts[i] !== p.ends[i - 1]) word++;
    p.words[i] = word;
  }
  return p;
}

/** Positions of the pieces strictly inside [start, end). */
function piecesInside(p: Pieces, start: number, end: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < p.ids.length; i++) if (p.starts[i] >= start && p.ends[i] <= end && p.ends[i] > p.starts[i]) out.push(i);
  return out;
}

function build(p: Pieces, text: string, targets: number[], kind: MaskedExample['kind'], tok: MaskingTokenizer, replace?: (i: number) => number): MaskedExample {
  const n = p.ids.length;
  const inputIds = p.ids.slice();
  const labels = new Int32Array(n).fill(IGNORE_LABEL);
  for (const i of targets) {
    labels[i] = p.ids[i];
    inputIds[i] = replace ? replace(i) : tok.maskId;
  }
  const start = p.starts[targets[0]];
  const end = p.ends[targets[targets.length - 1]];
  return {
    inputIds, labels, maskedPositions: Int32Array.from(targets), answer: text.slice(start, end), text, span: { start, end }, kind,
  };
}

/** Salient-span masking of one sentence given its spans (offsets into `sentence`); null when no span maps to pieces. */
export function maskSalient(sentence: string, spans: readonly SalientSpan[], tok: MaskingTokenizer, rng: Rng, cfg: MaskingConfig = MASKING_DEFAULTS): MaskedExample | null {
  if (tok.maskId < 0) throw new RangeError('maskSalient: the tokenizer has no [MASK] token');
  const p = piecesOf(tok, sentence, cfg.maxTokens);
  const usable: Array<{ span: SalientSpan; pos: number[] }> = [];
  for (const span of spans) {
    const pos = piecesInside(p, span.start, span.end);
    if (pos.length > 0 && pos.length < p.ids.length) usable.push({ span, pos });
  }
  if (usable.length === 0) return null;
  const pick = usable[rng.int(usable.length)];
  return build(p, sentence, pick.pos, pick.span.kind, tok);
}

/** Random whole-word span masking of one sentence (SpanBERT lengths); null when the sentence has < 2 words. */
export function maskRandomSpan(sentence: string, tok: MaskingTokenizer, rng: Rng, cfg: MaskingConfig = MASKING_DEFAULTS): MaskedExample | null {
  if (tok.maskId < 0) throw new RangeError('maskRandomSpan: the tokenizer has no [MASK] token');
  const p = piecesOf(tok, sentence, cfg.maxTokens);
  const words = [...new Set(p.words)];
  if (words.length < 2) return null;
  let len = 1;
  while (len < cfg.maxSpanWords && rng.random() >= cfg.spanP) len++;
  len = Math.min(len, words.length - 1); // always leave context
  const first = rng.int(words.length - len + 1);
  const chosen = new Set(words.slice(first, first + len));
  const pos: number[] = [];
  for (let i = 0; i < p.ids.length; i++) if (chosen.has(p.words[i])) pos.push(i);
  return build(p, sentence, pos, 'random-span', tok);
}

/** BERT's random-token masking (80% [MASK], 10% random, 10% kept); null for an empty sentence. */
export function maskRandomTokens(sentence: string, tok: MaskingTokenizer, rng: Rng, cfg: MaskingConfig = MASKING_DEFAULTS): MaskedExample | null {
  if (tok.maskId < 0) throw new RangeError('maskRandomTokens: the tokenizer has no [MASK] token');
  const p = piecesOf(tok, sentence, cfg.maxTokens);
  const n = p.ids.length;
  if (n < 2) return null;
  const pos: number[] = [];
  for (let i = 0; i < n; i++) if (rng.random() < cfg.tokenProb) pos.push(i);
  if (pos.length === 0) pos.push(rng.int(n));
  if (pos.length === n) pos.pop();
  const randomToken = (): number => {
    for (;;) {
      const id = rng.int(tok.vocabSize);
      if (!tok.isSpecialId?.(id)) return id;
    }
  };
  return build(p, sentence, pos, 'random-token', tok, (i) => {
    const r = rng.random();
    return r < 0.8 ? tok.maskId : r < 0.9 ? randomToken() : p.ids[i];
  });
}

/** A masked example plus where its sentence sits in the passage. */
export interface PassageExample extends MaskedExample {
  /** The sentence's [start, end) in the passage. */
  sentenceSpan: Span;
}

/**
 * One masked example per sentence of a passage (sentences without a usable span are skipped). For 'salient',
 * `spansBySentence` (from `salientSpansBySentence`, e.g. cached) avoids re-running the tagger.
 */
export function maskPassage(
  text: string, tok: MaskingTokenizer, rng: Rng, cfg: MaskingConfig = MASKING_DEFAULTS,
  spansBySentence?: ReturnType<typeof salientSpansBySentence>,
): PassageExample[] {
  const sentences = cfg.strategy === 'salient' ? (spansBySentence ?? salientSpansBySentence(text, cfg.spans)) : null;
  const out: PassageExample[] = [];
  const units = sentences ?? salientSentenceSpansOnly(text);
  for (const u of units) {
    const s = u.sentence;
    const sentence = text.slice(s.start, s.end);
    let ex: MaskedExample | null;
    if (cfg.strategy === 'salient') {
      const local = u.spans.map((sp) => ({ ...sp, start: sp.start - s.start, end: sp.end - s.start }));
      ex = maskSalient(sentence, local, tok, rng, cfg);
    } else if (cfg.strategy === 'random-span') {
      ex = maskRandomSpan(sentence, tok, rng, cfg);
    } else if (cfg.strategy === 'random-token') {
      ex = maskRandomTokens(sentence, tok, rng, cfg);
    } else {
      throw new RangeError(`maskPassage: unknown masking strategy "${String(cfg.strategy)}"`);
    }
    if (ex) out.push({ ...ex, sentenceSpan: s });
  }
  return out;
}

/** Sentences without running the tagger (the ablations do not need spans). */
function salientSentenceSpansOnly(text: string): Array<{ sentence: Span; spans: SalientSpan[] }> {
  return salientSpansBySentence(text, { entities: false, dates: false });
}
