// WordPiece model (BERT, Devlin et al. 2019 §3; Schuster & Nakajima 2012): greedy longest-match-first
// segmentation of one pre-tokenized word into vocabulary pieces, continuation pieces carrying the `##` prefix,
// and the unknown token for words longer than maxInputCharsPerWord code points or with no full segmentation.
// Works on UTF-16 strings but never splits a surrogate pair. Matching walks a character trie (no substring allocation); results of frequent words are cached.

/** Options of the WordPiece model. */
export interface WordPieceOptions {
  /** Token emitted for unsegmentable or over-long words (must be in the vocab). */
  unkToken: string;
  /** Prefix marking a piece that continues a word. */
  continuingSubwordPrefix: string;
  /** Words with more code points than this become the unknown token. */
  maxInputCharsPerWord: number;
}

/**
 * Character trie over UTF-16 units with an open-addressing edge table (no string allocation while matching).
 * Node 0 is the root; `tokenOf[node]` is the id of the token spelled by the path to `node`, or -1.
 */
const CACHE_LIMIT = 200_000;

class UnitTrie {
  private keysNode = new Int32Array(1024).fill(-1);
  private keysUnit = new Int32Array(1024);
  private child = new Int32Array(1024);
  private mask = 1023;
  private edges = 0;
  tokenOf: number[] = [-1];

  private slot(node: number, unit: number): number {
    let h = (Math.imul(node, 0x9e3779b1) ^ Math.imul(unit, 0x85ebca6b)) & this.mask;
    while (this.keysNode[h] !== -1 && (this.keysNode[h] !== node || this.keysUnit[h] !== unit)) h = (h + 1) & this.mask;
    return h;
  }

  /** Child of `node` along `unit`, or -1. */
  next(node: number, unit: number): number {
    const h = this.slot(node, unit);
    return this.keysNode[h] === -1 ? -1 : this.child[h]!;
  }

  insert(token: string, from: number, id: number): void {
    let node = 0;
    for (let i = from; i < token.length; i++) {
      const u = token.charCodeAt(i);
      let c = this.next(node, u);
      if (c < 0) {
        if (2 * (this.edges + 1) > this.mask) this.grow();
        c = this.tokenOf.length;
        this.tokenOf.push(-1);
        const h = this.slot(node, u);
        this.keysNode[h] = node;
        this.keysUnit[h] = u;
        this.child[h] = c;
        this.edges++;
      }
      node = c;
    }
    this.tokenOf[node] = id;
  }

  private grow(): void {
    const oldN = this.keysNode;
    const oldU = this.keysUnit;
    const oldC = this.child;
    const size = oldN.length * 2;
    this.keysNode = new Int32Array(size).fill(-1);
    this.keysUnit = new Int32Array(size);
    this.child = new Int32Array(size);
    this.mask = size - 1;
    for (let i = 0; i < oldN.length; i++) {
      if (oldN[i] === -1) continue;
      const h = this.slot(oldN[i]!, oldU[i]!);
      this.keysNode[h] = oldN[i]!;
      this.keysUnit[h] = oldU[i]!;
      this.child[h] = oldC[i]!;
    }
  }
}


/** Greedy longest-match-first WordPiece segmenter over a fixed vocabulary. */
export class WordPieceModel {
  /** id -> token string (index = id). */
  readonly idToToken: readonly string[];
  /** token string -> id (for duplicated lines the last one wins, as in HF). */
  readonly tokenToId: ReadonlyMap<string, number>;
  readonly options: Readonly<WordPieceOptions>;
  readonly unkId: number;
  private readonly initial = new UnitTrie();
  private readonly continuation = new UnitTrie();
  private readonly cache = new Map<string, Int32Array>();
  private readonly scratch: number[] = [];

  constructor(vocab: readonly string[], options: WordPieceOptions) {
    this.idToToken = vocab.slice();
    this.options = { ...options };
    const map = new Map<string, number>();
    const prefix = options.continuingSubwordPrefix;
    for (let id = 0; id < vocab.length; id++) {
      const tok = vocab[id]!;
      map.set(tok, id);
      if (tok.length > 0) this.initial.insert(tok, 0, id);
      if (prefix.length > 0 && tok.startsWith(prefix) && tok.length > prefix.length) {
        this.continuation.insert(tok, prefix.length, id);
      }
    }
    this.tokenToId = map;
    const unk = map.get(options.unkToken);
    if (unk === undefined) throw new Error(`WordPiece: unk token ${JSON.stringify(options.unkToken)} is not in the vocab`);
    this.unkId = unk;
  }

  get vocabSize(): number {
    return this.idToToken.length;
  }

  /**
   * Segments one normalized word. Returns pairs [id0, end0, id1, end1, ...] where end_k is the UTF-16 offset in
   * `word` where piece k ends (piece k starts at end_{k-1}, the first at 0). An unknown word is [unkId, word.length].
   * The array is shared with a bounded cache of frequent words: do not modify it.
   */
  encodeWord(word: string): Int32Array {
    const hit = this.cache.get(word);
    if (hit !== undefined) return hit;
    this.scratch.length = 0;
    this.segmentInto(word, this.scratch);
    const res = Int32Array.from(this.scratch);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(word, res);
    return res;
  }

  private segmentInto(word: string, out: number[]): void {
    const n = word.length;
    const base = out.length;
    if (n > this.options.maxInputCharsPerWord) {
      let cps = n;
      for (let i = 0; i < n; i++) {
        const c = word.charCodeAt(i);
        if (c >= 0xdc00 && c <= 0xdfff) cps--;
      }
      if (cps > this.options.maxInputCharsPerWord) {
        out.push(this.unkId, n);
        return;
      }
    }
    let start = 0;
    while (start < n) {
      // Longest vocabulary piece starting at `start` (never ending inside a surrogate pair).
      const trie = start === 0 ? this.initial : this.continuation;
      const tokenOf = trie.tokenOf;
      let node = 0;
      let bestId = -1;
      let bestEnd = start;
      for (let i = start; i < n; i++) {
        node = trie.next(node, word.charCodeAt(i));
        if (node < 0) break;
        const id = tokenOf[node]!;
        if (id >= 0) {
          const nx = i + 1 < n ? word.charCodeAt(i + 1) : 0;
          if (nx < 0xdc00 || nx > 0xdfff) {
            bestId = id;
            bestEnd = i + 1;
          }
        }
      }
      if (bestId < 0) {
        out.length = base;
        out.push(this.unkId, n);
        return;
      }
      out.push(bestId, bestEnd);
      start = bestEnd;
    }
  }
}
