/**
 * Retriever inputs (REALM §3.1: join(a, b) = `[CLS] a [SEP] b [SEP]`): a query is `[CLS] question [SEP]`, a block is
 * `[CLS] title [SEP] text [SEP]` with segment ids 0 / 1 (BERT pair encoding); token sequences are packed into
 * right-padded `BertInputs` batches, and `lengthSortedBatches` groups sequences of similar length so batched encoding
 * wastes little work on padding.
 */
import type { BertInputs } from '../model/bert.js';

/** Ids of the special tokens and the wordpiece function the retriever needs from a tokenizer (BertTokenizer fits). */
export interface RetrieverTokenizer {
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  /** Wordpiece ids of a text, without specials. */
  encodeSequence(text: string): { ids: ArrayLike<number> };
}

/** One tokenised sequence with specials. */
export interface TokenSeq {
  /** Token ids [length]. */
  ids: Int32Array;
  /** Segment ids [length] (0 = first segment, 1 = second). */
  types: Int32Array;
}

/** Default maximum query length in wordpieces (questions and ICT pseudo-queries). */
export const DEFAULT_QUERY_LEN = 64;
/** REALM's block length (288 wordpieces including the three specials). */
export const REALM_BLOCK_LEN = 288;

/** `[CLS] a [SEP]` (and `b [SEP]` with segment 1 when given), `b` then `a` truncated so the total is <= maxLen. */
export function joinIds(tok: RetrieverTokenizer, a: ArrayLike<number>, b: ArrayLike<number> | null, maxLen: number): TokenSeq {
  const specials = b === null ? 2 : 3;
  if (!Number.isInteger(maxLen) || maxLen < specials + 1) throw new RangeError(`joinIds: maxLen ${maxLen} leaves no room for text`);
  let nb = b === null ? 0 : b.length;
  let na = a.length;
  if (na + nb + specials > maxLen) {
    // keep the first segment (title / query) whole if possible, cut the second; then the first
    nb = Math.max(0, Math.min(nb, maxLen - specials - na));
    na = Math.min(na, maxLen - specials - nb);
  }
  const n = na + nb + specials;
  const ids = new Int32Array(n);
  const types = new Int32Array(n);
  ids[0] = tok.clsId;
  for (let i = 0; i < na; i++) ids[1 + i] = a[i];
  ids[1 + na] = tok.sepId;
  if (b !== null) {
    for (let i = 0; i < nb; i++) {
      ids[2 + na + i] = b[i];
      types[2 + na + i] = 1;
    }
    ids[n - 1] = tok.sepId;
    types[n - 1] = 1;
  }
  return { ids, types };
}

/** `[CLS] question [SEP]`, truncated to maxLen. */
export function encodeQuery(tok: RetrieverTokenizer, question: string, maxLen = DEFAULT_QUERY_LEN): TokenSeq {
  return joinIds(tok, tok.encodeSequence(question).ids, null, maxLen);
}

/** `[CLS] title [SEP] text [SEP]`, the text truncated to fit maxLen. */
export function encodeBlock(tok: RetrieverTokenizer, title: string, text: string, maxLen = REALM_BLOCK_LEN): TokenSeq {
  return joinIds(tok, tok.encodeSequence(title).ids, tok.encodeSequence(text).ids, maxLen);
}

/** Packs sequences into one right-padded batch (padId, attention mask 0 on padding; no mask when nothing is padded). */
export function packBatch(seqs: readonly TokenSeq[], padId: number): BertInputs {
  if (seqs.length === 0) throw new RangeError('packBatch: empty batch');
  let T = 0;
  for (const s of seqs) T = Math.max(T, s.ids.length);
  const B = seqs.length;
  const inputIds = new Int32Array(B * T).fill(padId);
  const tokenTypeIds = new Int32Array(B * T);
  const attentionMask = new Uint8Array(B * T);
  let padded = false;
  seqs.forEach((s, b) => {
    inputIds.set(s.ids, b * T);
    tokenTypeIds.set(s.types, b * T);
    attentionMask.fill(1, b * T, b * T + s.ids.length);
    if (s.ids.length < T) padded = true;
  });
  // no padding (all rows of length T, the common case for length-sorted batches): no mask, so no additive-bias pass
  return padded ? { inputIds, tokenTypeIds, attentionMask, batch: B, seqLen: T } : { inputIds, tokenTypeIds, batch: B, seqLen: T };
}

/**
 * Splits positions 0..n-1 into batches of at most `maxBatch` sequences and at most `maxTokens` padded tokens,
 * grouping similar lengths (sorted by length). Returns the positions of each batch.
 */
export function lengthSortedBatches(lengths: ArrayLike<number>, maxBatch: number, maxTokens = Infinity): number[][] {
  const order = Array.from({ length: lengths.length }, (_, i) => i).sort((x, y) => lengths[x] - lengths[y] || x - y);
  const out: number[][] = [];
  let cur: number[] = [];
  let curMax = 0;
  for (const i of order) {
    const m = Math.max(curMax, lengths[i]);
    if (cur.length > 0 && (cur.length >= maxBatch || m * (cur.length + 1) > maxTokens)) {
      out.push(cur);
      cur = [];
      curMax = 0;
    }
    cur.push(i);
    curMax = Math.max(curMax, lengths[i]);
  }
  if (cur.length) out.push(cur);
  return out;
}
