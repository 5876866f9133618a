// WordPiece vocabulary trainer, following the HuggingFace `tokenizers` WordPieceTrainer (a BPE trainer with the
// `##` continuing-subword prefix whose merges become the WordPiece vocabulary; cf. BERT §3 / Wu et al. 2016):
// count BERT-normalized words, take the (optionally limited) character alphabet, add `##c` forms of characters
// seen inside words, then repeatedly merge the most frequent adjacent symbol pair (ties: lowest ids) until the
// vocabulary has `vocabSize` entries or the best pair is rarer than minFrequency. Special tokens come first:
// [PAD] [UNK] [CLS] [SEP] [MASK] = ids 0..4. Deterministic (HF's order of `##c` forms depends on hash order).

import { BasicTokenizer } from './basicTokenizer.js';
import { BertTokenizer } from './bertTokenizer.js';
import { TokenizerError } from './errors.js';

/** Options of trainWordPiece. */
export interface TrainWordPieceOptions {
  /** Target vocabulary size including special tokens and the alphabet. */
  vocabSize: number;
  /** Stop merging when the best pair occurs fewer times than this. Default 2. */
  minFrequency?: number;
  /** Lower-case + strip accents (uncased BERT). Default true. */
  doLowerCase?: boolean;
  /** Keep only the this-many most frequent characters (others are dropped from words). Default: no limit. */
  limitAlphabet?: number;
  /** Special tokens placed first. Default [PAD] [UNK] [CLS] [SEP] [MASK]. */
  specialTokens?: string[];
}

const PREFIX = '##';
const K = 2 ** 21; // pair key = a * K + b (ids < 2^21)

/** Binary max-heap of (count, pair key); ties pop the smaller key first (= smaller (a, b) ids, as HF). */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  get size(): number {
    return this.counts.length;
  }
  private above(i: number, j: number): boolean {
    const ci = this.counts[i]!;
    const cj = this.counts[j]!;
    return ci > cj || (ci === cj && this.keys[i]! < this.keys[j]!);
  }
  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j]!, this.counts[i]!];
    [this.keys[i], this.keys[j]] = [this.keys[j]!, this.keys[i]!];
  }
  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): [number, number] {
    const top: [number, number] = [this.counts[0]!, this.keys[0]!];
    const lastC = this.counts.pop()!;
    const lastK = this.keys.pop()!;
    if (this.counts.length > 0) {
      this.counts[0] = lastC;
      this.keys[0] = lastK;
      let i = 0;
      const n = this.counts.length;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < n && this.above(l, m)) m = l;
        if (r < n && this.above(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

/** Counts BERT-normalized words of a text stream. */
async function countWords(texts: Iterable<string> | AsyncIterable<string>, basic: BasicTokenizer): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const add = (t: unknown): void => {
    if (typeof t !== 'string') throw new TokenizerError(`trainWordPiece: every text must be a string, got ${typeof t}`);
    for (const w of basic.words(t)) counts.set(w, (counts.get(w) ?? 0) + 1);
  };
  if (Symbol.asyncIterator in texts) {
    for await (const t of texts as AsyncIterable<string>) add(t);
  } else {
    for (const t of texts as Iterable<string>) add(t);
  }
  return counts;
}

/** Learns a WordPiece vocabulary from a corpus stream and returns a tokenizer using it. */
export async function trainWordPiece(
  texts: Iterable<string> | AsyncIterable<string>,
  options: TrainWordPieceOptions,
): Promise<BertTokenizer> {
  const { vocabSize } = options;
  const minFrequency = options.minFrequency ?? 2;
  const doLowerCase = options.doLowerCase ?? true;
  const specials = options.specialTokens ?? ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  if (!Number.isInteger(vocabSize) || vocabSize < specials.length) {
    throw new TokenizerError(`trainWordPiece: vocabSize must be an integer >= ${specials.length}, got ${vocabSize}`);
  }
  if (options.limitAlphabet !== undefined && !(Number.isInteger(options.limitAlphabet) && options.limitAlphabet >= 0)) {
    throw new TokenizerError(`trainWordPiece: limitAlphabet must be a non-negative integer, got ${options.limitAlphabet}`);
  }
  const basic = new BasicTokenizer({ cleanText: true, handleChineseChars: true, stripAccents: null, lowercase: doLowerCase });
  const counts = await countWords(texts, basic);
  const words = [...counts.keys()];
  const wc = words.map((w) => counts.get(w)!);

  // Alphabet, weighted by word counts; optionally keep only the most frequent characters.
  const charCount = new Map<string, number>();
  words.forEach((w, i) => {
    for (const ch of w) charCount.set(ch, (charCount.get(ch) ?? 0) + wc[i]!);
  });
  let alphabet = [...charCount.keys()];
  if (options.limitAlphabet !== undefined && alphabet.length > options.limitAlphabet) {
    alphabet.sort((x, y) => charCount.get(y)! - charCount.get(x)! || x.codePointAt(0)! - y.codePointAt(0)!);
    alphabet = alphabet.slice(0, options.limitAlphabet);
  }
  alphabet.sort((x, y) => x.codePointAt(0)! - y.codePointAt(0)!);
  const vocab: string[] = [];
  const ids = new Map<string, number>();
  const addTok = (t: string): number => {
    let id = ids.get(t);
    if (id === undefined) {
      id = vocab.length;
      vocab.push(t);
      ids.set(t, id);
    }
    return id;
  };
  for (const s of specials) addTok(s);
  for (const ch of alphabet) addTok(ch);
  const inAlphabet = new Set(alphabet);
  const contChars = new Set<string>();
  for (const w of words) {
    let first = true;
    for (const ch of w) {
      if (!first && inAlphabet.has(ch)) contChars.add(ch);
      first = false;
    }
  }
  for (const ch of [...contChars].sort((x, y) => x.codePointAt(0)! - y.codePointAt(0)!)) addTok(PREFIX + ch);

  // Words as symbol-id sequences (characters outside the alphabet are dropped, as HF does).
  const syms: number[][] = words.map((w) => {
    const s: number[] = [];
    let first = true;
    for (const ch of w) {
      if (inAlphabet.has(ch)) s.push(ids.get(first ? ch : PREFIX + ch)!);
      first = false;
    }
    return s;
  });
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const notePair = (key: number, w: number): void => {
    const list = pairWords.get(key);
    if (list === undefined) pairWords.set(key, [w]);
    else if (list[list.length - 1] !== w) list.push(w);
  };
  for (let w = 0; w < syms.length; w++) {
    const s = syms[w]!;
    for (let i = 0; i + 1 < s.length; i++) {
      const key = s[i]! * K + s[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + wc[w]!);
      notePair(key, w);
    }
  }
  const heap = new PairHeap();
  for (const [key, c] of pairCount) heap.push(c, key);
  const seen = new Int32Array(syms.length).fill(-1);
  let step = 0;
  while (vocab.length < vocabSize && heap.size > 0) {
    const [count, key] = heap.pop();
    const cur = pairCount.get(key) ?? 0;
    if (cur !== count) {
      if (cur > 0) heap.push(cur, key);
      continue;
    }
    if (cur < 1 || cur < minFrequency) break;
    const a = Math.floor(key / K);
    const b = key - a * K;
    const tb = vocab[b]!;
    const newId = addTok(vocab[a]! + (tb.startsWith(PREFIX) ? tb.slice(PREFIX.length) : tb));
    if (newId >= K) throw new TokenizerError(`trainWordPiece: vocabulary larger than ${K} is not supported`);
    const touched = new Set<number>();
    const change = (x: number, y: number, delta: number, w: number): void => {
      const k2 = x * K + y;
      pairCount.set(k2, (pairCount.get(k2) ?? 0) + delta);
      if (delta > 0) {
        touched.add(k2);
        notePair(k2, w);
      }
    };
    step++;
    for (const w of pairWords.get(key) ?? []) {
      if (seen[w] === step) continue;
      seen[w] = step;
      const s = syms[w]!;
      const c = wc[w]!;
      const out: number[] = [];
      let merged = false;
      for (let i = 0; i < s.length; ) {
        if (s[i] === a && i + 1 < s.length && s[i + 1] === b) {
          merged = true;
          if (out.length > 0) {
            const prev = out[out.length - 1]!;
            change(prev, a, -c, w);
            change(prev, newId, c, w);
          }
          if (i + 2 < s.length) {
            const next = s[i + 2]!;
            change(b, next, -c, w);
            change(newId, next, c, w);
          }
          out.push(newId);
          i += 2;
        } else {
          out.push(s[i]!);
          i++;
        }
      }
      if (merged) syms[w] = out;
    }
    pairCount.delete(key);
    pairWords.delete(key);
    for (const k2 of touched) {
      const c2 = pairCount.get(k2) ?? 0;
      if (c2 > 0) heap.push(c2, k2);
    }
  }
  return BertTokenizer.fromVocab(vocab, { doLowerCase });
}
