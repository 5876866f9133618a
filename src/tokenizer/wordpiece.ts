// WordPiece model (BERT, Devlin et al. 2019 §3; Schuster & Nakajima 2012): greedy longest-match-first
// segmentation of one pre-tokenized word into vocabulary pieces, continuation pieces carrying the `##` prefix,
// and the unknown token for words longer than maxInputCharsPerWord code points or with no full segmentation.
// Works on UTF-16 strings but never splits a surrogate pair. Results are cached per word (bounded).

/** Options of the WordPiece model. */
export interface WordPieceOptions {
  /** Token emitted for unsegmentable or over-long words (must be in the vocab). */
  unkToken: string;
  /** Prefix marking a piece that continues a word. */
  continuingSubwordPrefix: string;
  /** Words with more code points than this become the unknown token. */
  maxInputCharsPerWord: number;
}

const CACHE_LIMIT = 100_000;

/** Greedy longest-match-first WordPiece segmenter over a fixed vocabulary. */
export class WordPieceModel {
  /** id -> token string (index = id). */
  readonly idToToken: readonly string[];
  /** token string -> id (for duplicated lines the last one wins, as in HF). */
  readonly tokenToId: ReadonlyMap<string, number>;
  readonly options: Readonly<WordPieceOptions>;
  readonly unkId: number;
  private readonly continuation = new Map<string, number>();
  private readonly maxLen: number;
  private readonly maxContLen: number;
  private readonly cache = new Map<string, Int32Array>();

  constructor(vocab: readonly string[], options: WordPieceOptions) {
    this.idToToken = vocab.slice();
    this.options = { ...options };
    const map = new Map<string, number>();
    let maxLen = 0;
    let maxContLen = 0;
    const prefix = options.continuingSubwordPrefix;
    for (let id = 0; id < vocab.length; id++) {
      const tok = vocab[id]!;
      map.set(tok, id);
      if (tok.length > maxLen) maxLen = tok.length;
      if (prefix.length > 0 && tok.startsWith(prefix) && tok.length > prefix.length) {
        const rest = tok.slice(prefix.length);
        this.continuation.set(rest, id);
        if (rest.length > maxContLen) maxContLen = rest.length;
      }
    }
    this.tokenToId = map;
    this.maxLen = maxLen;
    this.maxContLen = maxContLen;
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
   * The returned array is shared with the cache: do not modify it.
   */
  encodeWord(word: string): Int32Array {
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached;
    const res = this.segment(word);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(word, res);
    return res;
  }

  private segment(word: string): Int32Array {
    const n = word.length;
    const unk = Int32Array.of(this.unkId, n);
    if (n > this.options.maxInputCharsPerWord) {
      let cps = n;
      for (let i = 0; i < n; i++) {
        const c = word.charCodeAt(i);
        if (c >= 0xdc00 && c <= 0xdfff) cps--;
      }
      if (cps > this.options.maxInputCharsPerWord) return unk;
    }
    const out: number[] = [];
    let start = 0;
    while (start < n) {
      const map = start === 0 ? this.tokenToId : this.continuation;
      let end = Math.min(n, start + (start === 0 ? this.maxLen : this.maxContLen));
      let found = -1;
      while (end > start) {
        if (end < n) {
          const c = word.charCodeAt(end);
          if (c >= 0xdc00 && c <= 0xdfff) {
            end--;
            continue;
          }
        }
        const id = map.get(start === 0 && end === n ? word : word.slice(start, end));
        if (id !== undefined) {
          found = id;
          break;
        }
        end--;
      }
      if (found < 0) return unk;
      out.push(found, end);
      start = end;
    }
    return Int32Array.from(out);
  }
}
