// Encoding assembly for BERT inputs (Devlin et al. 2019 §3, "Input/Output Representations"): truncation of a single
// sequence or a pair (HF `tokenizers` semantics: longest_first / only_first / only_second, applied before the
// special tokens are added), the `[CLS] A [SEP] (B [SEP])` template with token type ids, and right padding.

import { TruncationError } from './errors.js';

/** How to shorten inputs longer than maxLength (counted with the special tokens). */
export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second' | false;
/** 'max_length' pads to maxLength, 'longest' to the longest encoding of the batch. */
export type PaddingStrategy = 'max_length' | 'longest' | false;

/** Options of encode / encodeBatch. */
export interface EncodeOptions {
  /** Maximum length in tokens including [CLS]/[SEP]; required for truncation and 'max_length' padding. */
  maxLength?: number;
  /** Truncation strategy; defaults to 'longest_first' when maxLength is given, else false. */
  truncation?: TruncationStrategy;
  /** Padding strategy (right padding with [PAD]); default false. */
  padding?: PaddingStrategy;
  /** Add [CLS] ... [SEP] (and the second [SEP] for pairs); default true. */
  addSpecialTokens?: boolean;
}

/** One encoded input; every array has one entry per token (length = inputIds.length). */
export interface Encoding {
  /** Vocabulary ids, [length]. */
  inputIds: Int32Array;
  /** 0 for [CLS], A and its [SEP]; 1 for B and its [SEP]; 0 for padding. [length] */
  tokenTypeIds: Int32Array;
  /** 1 for real tokens, 0 for padding. [length] */
  attentionMask: Int32Array;
  /** [start, end) UTF-16 offsets into the text of the token's sequence; [0, 0] for special and pad tokens. */
  offsets: [number, number][];
  /** Vocabulary strings of the tokens. */
  tokens: string[];
  /** 0 / 1 for tokens of the first / second text, null for special and pad tokens. */
  sequenceIds: (0 | 1 | null)[];
  /** Index of the pre-tokenized word each token came from (per sequence), null for special and pad tokens. */
  wordIds: (number | null)[];
}

/** Tokens of one text before special tokens: parallel arrays (offsets flattened as start, end). */
export interface RawSequence {
  ids: number[];
  offsets: number[];
  wordIds: number[];
}

function truncateTo(seq: RawSequence, n: number): void {
  if (seq.ids.length <= n) return;
  seq.ids.length = n;
  seq.offsets.length = 2 * n;
  seq.wordIds.length = n;
}

/** Tokens HF sees of a sequence: all of them, or those up to the end of the word holding token maxLength - 1. */
function cappedLength(seq: RawSequence, maxLength: number): number {
  const n = seq.ids.length;
  if (n <= maxLength || maxLength === 0) return n;
  const lastWord = seq.wordIds[maxLength - 1]!;
  let k = maxLength;
  while (k < n && seq.wordIds[k] === lastWord) k++;
  return k;
}

/**
 * Truncates `a` (and `b`) in place so that their total length plus `numSpecial` fits in maxLength, following
 * HF tokenizers (`truncate_encodings`): nothing happens if it already fits.
 */
export function truncateSequences(
  a: RawSequence,
  b: RawSequence | null,
  maxLength: number,
  strategy: Exclude<TruncationStrategy, false>,
  numSpecial: number,
): void {
  if (!Number.isInteger(maxLength) || maxLength < numSpecial) {
    throw new TruncationError(`maxLength ${maxLength} is smaller than the ${numSpecial} special tokens to add`);
  }
  const budget = maxLength - numSpecial;
  const total = a.ids.length + (b ? b.ids.length : 0);
  if (total <= budget) return;
  const toRemove = total - budget;
  if (strategy === 'longest_first') {
    if (!b) {
      truncateTo(a, a.ids.length - toRemove);
      return;
    }
    // HF tokenizers 0.23 (`truncate_pair`, ported from its legacy code): if the shorter sequence fits in half the
    // budget it is kept and the longer one gets the rest; else both get half, the odd token going to the longer
    // one (to the second on a tie). The lengths it compares are capped: HF stops tokenizing a sequence at the end
    // of the word that holds token maxLength (index maxLength - 1), which decides the odd token when both are long.
    let n1 = cappedLength(a, maxLength);
    let n2 = cappedLength(b, maxLength);
    let swap = false;
    if (n1 > n2) {
      swap = true;
      [n1, n2] = [n2, n1];
    }
    n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
    if (n1 + n2 > budget) {
      n1 = Math.floor(budget / 2);
      n2 = n1 + (budget % 2);
    }
    if (swap) [n1, n2] = [n2, n1];
    truncateTo(a, n1);
    truncateTo(b, n2);
    return;
  }
  const target = strategy === 'only_first' ? a : b;
  if (!target) throw new TruncationError(`truncation 'only_second' needs a second sequence (pair) to truncate`);
  if (target.ids.length <= toRemove) {
    throw new TruncationError(
      `truncation '${strategy}': the ${strategy === 'only_first' ? 'first' : 'second'} sequence has ` +
        `${target.ids.length} tokens, cannot remove ${toRemove} to fit maxLength ${maxLength}`,
    );
  }
  truncateTo(target, target.ids.length - toRemove);
}

/** Ids of the special tokens used by the BERT template. */
export interface TemplateIds {
  clsId: number;
  sepId: number;
}

/** Builds `[CLS] a [SEP] (b [SEP])` (or a plain concatenation without special tokens). */
export function assembleEncoding(
  a: RawSequence,
  b: RawSequence | null,
  special: TemplateIds | null,
  idToToken: readonly string[],
): Encoding {
  const n = a.ids.length + (b ? b.ids.length : 0) + (special ? (b ? 3 : 2) : 0);
  const enc: Encoding = {
    inputIds: new Int32Array(n),
    tokenTypeIds: new Int32Array(n),
    attentionMask: new Int32Array(n).fill(1),
    offsets: new Array(n),
    tokens: new Array(n),
    sequenceIds: new Array(n),
    wordIds: new Array(n),
  };
  let p = 0;
  const pushSpecial = (id: number, type: number): void => {
    enc.inputIds[p] = id;
    enc.tokenTypeIds[p] = type;
    enc.offsets[p] = [0, 0];
    enc.tokens[p] = idToToken[id]!;
    enc.sequenceIds[p] = null;
    enc.wordIds[p] = null;
    p++;
  };
  const pushSeq = (s: RawSequence, seqId: 0 | 1): void => {
    for (let i = 0; i < s.ids.length; i++) {
      const id = s.ids[i]!;
      enc.inputIds[p] = id;
      enc.tokenTypeIds[p] = seqId;
      enc.offsets[p] = [s.offsets[2 * i]!, s.offsets[2 * i + 1]!];
      enc.tokens[p] = idToToken[id]!;
      enc.sequenceIds[p] = seqId;
      enc.wordIds[p] = s.wordIds[i]!;
      p++;
    }
  };
  if (special) pushSpecial(special.clsId, 0);
  pushSeq(a, 0);
  if (special) pushSpecial(special.sepId, 0);
  if (b) {
    pushSeq(b, 1);
    if (special) pushSpecial(special.sepId, 1);
  }
  return enc;
}

/** Right-pads `enc` to `length` tokens (no-op when it is already that long or longer). */
export function padEncoding(enc: Encoding, length: number, padId: number, padToken: string): Encoding {
  const n = enc.inputIds.length;
  if (n >= length) return enc;
  const grow = (src: Int32Array, fill: number): Int32Array => {
    const out = new Int32Array(length).fill(fill);
    out.set(src);
    return out;
  };
  const offsets = enc.offsets.slice();
  const tokens = enc.tokens.slice();
  const sequenceIds = enc.sequenceIds.slice();
  const wordIds = enc.wordIds.slice();
  for (let i = n; i < length; i++) {
    offsets.push([0, 0]);
    tokens.push(padToken);
    sequenceIds.push(null);
    wordIds.push(null);
  }
  return {
    inputIds: grow(enc.inputIds, padId),
    tokenTypeIds: grow(enc.tokenTypeIds, 0),
    attentionMask: grow(enc.attentionMask, 0),
    offsets,
    tokens,
    sequenceIds,
    wordIds,
  };
}
