// Okapi BM25 retriever over retrieval blocks: the sparse baseline every neural retrieval figure is compared with
// (ORQA / DPR; REALM §4 compares against BM25-based systems). Own inverted index in typed arrays (CSR: per-term
// postings of block ids and precomputed term-frequency weights), because the npm libraries either score every
// document per query (okapibm25), use BM25+ with fuzzy/prefix extras (minisearch), or keep per-document JS objects
// (wink-bm25-text-search) — too slow or not the Anserini formula.
// Score (Lucene/Anserini BM25, k1 = 0.9, b = 0.4 by default):
//   score(q, d) = Σ_{t ∈ q} idf(t) · tf(t,d)·(k1+1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl)),
//   idf(t) = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5)); repeated query terms count once per occurrence;
//   |d| = number of analysed terms of the block (title + text), avgdl their mean.
import { NLTK_STOPWORDS, createAnalyzer, type AnalyzerConfig } from './bm25Analyzer.js';

/** BM25 parameters. */
export interface Bm25Config {
  /** Term-frequency saturation (Anserini/DPR: 0.9). */
  k1: number;
  /** Length normalisation (Anserini/DPR: 0.4). */
  b: number;
  /** Analyser options (stop words). */
  analyzer?: Partial<AnalyzerConfig>;
}

/** Anserini's MS MARCO / DPR defaults. */
export const BM25_DEFAULTS: Bm25Config = { k1: 0.9, b: 0.4 };

/** Top-k result of a query. */
export interface Bm25Hits {
  /** Block ids, best first. [k] */
  ids: Int32Array;
  /** BM25 scores, descending. [k] */
  scores: Float32Array;
}

/** Incremental builder: add documents (block ids 0..n-1 in order), then `build()`. */
export class Bm25Builder {
  private readonly vocab = new Map<string, number>();
  private docTerms: Uint32Array = new Uint32Array(1 << 20);
  private docTfs: Uint16Array = new Uint16Array(1 << 20);
  private used = 0;
  private docStart: number[] = [0];
  private docLen: number[] = [];
  private readonly analyze: (text: string) => string[];

  constructor(readonly config: Bm25Config = BM25_DEFAULTS) {
    this.analyze = createAnalyzer(config.analyzer);
  }

  /** Adds the next block (its id is the number of blocks added before it); returns the id. */
  add(text: string): number {
    const tf = new Map<number, number>();
    const terms = this.analyze(text);
    for (const t of terms) {
      let id = this.vocab.get(t);
      if (id === undefined) {
        id = this.vocab.size;
        this.vocab.set(t, id);
      }
      tf.set(id, (tf.get(id) ?? 0) + 1);
    }
    if (this.used + tf.size > this.docTerms.length) {
      const cap = Math.max(this.docTerms.length * 2, this.used + tf.size);
      const t2 = new Uint32Array(cap);
      t2.set(this.docTerms.subarray(0, this.used));
      const f2 = new Uint16Array(cap);
      f2.set(this.docTfs.subarray(0, this.used));
      this.docTerms = t2;
      this.docTfs = f2;
    }
    for (const [term, f] of tf) {
      this.docTerms[this.used] = term;
      this.docTfs[this.used] = Math.min(f, 65535);
      this.used++;
    }
    this.docStart.push(this.used);
    this.docLen.push(terms.length);
    return this.docLen.length - 1;
  }

  /** Freezes the index. */
  build(): Bm25Index {
    const n = this.docLen.length;
    const nTerms = this.vocab.size;
    const df = new Uint32Array(nTerms);
    for (let i = 0; i < this.used; i++) df[this.docTerms[i]]++;
    const termStart = new Uint32Array(nTerms + 1);
    for (let t = 0; t < nTerms; t++) termStart[t + 1] = termStart[t] + df[t];
    let total = 0;
    for (const l of this.docLen) total += l;
    const avgdl = n > 0 ? total / n : 0;
    const { k1, b } = this.config;
    const postDoc = new Int32Array(this.used); // [nnz] block ids grouped by term
    const postWeight = new Float32Array(this.used); // [nnz] tf·(k1+1)/(tf + k1·(1−b+b·dl/avgdl))
    const fill = termStart.slice(0, nTerms);
    for (let d = 0; d < n; d++) {
      const norm = k1 * (1 - b + (avgdl > 0 ? (b * this.docLen[d]) / avgdl : 0));
      for (let i = this.docStart[d]; i < this.docStart[d + 1]; i++) {
        const t = this.docTerms[i];
        const f = this.docTfs[i];
        const at = fill[t]++;
        postDoc[at] = d;
        postWeight[at] = (f * (k1 + 1)) / (f + norm);
      }
    }
    const idf = new Float32Array(nTerms);
    for (let t = 0; t < nTerms; t++) idf[t] = Math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5));
    return new Bm25Index(this.config, this.vocab, termStart, postDoc, postWeight, idf, new Uint32Array(this.docLen), avgdl);
  }
}

/** Frozen BM25 index with top-k search. */
export class Bm25Index {
  private readonly acc: Float32Array;
  private readonly touched: Int32Array;
  private readonly analyze: (text: string) => string[];

  constructor(
    readonly config: Bm25Config,
    private readonly vocab: Map<string, number>,
    private readonly termStart: Uint32Array, // [nTerms + 1]
    private readonly postDoc: Int32Array, // [nnz]
    private readonly postWeight: Float32Array, // [nnz]
    private readonly idf: Float32Array, // [nTerms]
    readonly docLengths: Uint32Array, // [n]
    readonly avgdl: number,
  ) {
    this.acc = new Float32Array(docLengths.length);
    this.touched = new Int32Array(docLengths.length);
    this.analyze = createAnalyzer(config.analyzer);
  }

  /** Number of indexed blocks. */
  get size(): number {
    return this.docLengths.length;
  }

  /** Number of distinct terms. */
  get vocabularySize(): number {
    return this.vocab.size;
  }

  /** Document frequency of an (already analysed) term; 0 if unseen. */
  documentFrequency(term: string): number {
    const t = this.vocab.get(term);
    return t === undefined ? 0 : this.termStart[t + 1] - this.termStart[t];
  }

  /** BM25 score of one block for a query (brute force; for tests and explanations). */
  score(query: string, blockId: number): number {
    let s = 0;
    for (const term of this.analyze(query)) {
      const t = this.vocab.get(term);
      if (t === undefined) continue;
      for (let i = this.termStart[t]; i < this.termStart[t + 1]; i++) {
        if (this.postDoc[i] === blockId) s += this.idf[t] * this.postWeight[i];
      }
    }
    return s;
  }

  /** BM25 scores of the given blocks for a query [ids.length]: a binary search of each term's postings (block ids
   *  ascending) per block, so any candidate list is scored without a pass over the corpus. */
  scoreMany(query: string, ids: ArrayLike<number>): Float64Array {
    const out = new Float64Array(ids.length);
    for (const term of this.analyze(query)) {
      const t = this.vocab.get(term);
      if (t === undefined) continue;
      for (let j = 0; j < ids.length; j++) {
        let lo = this.termStart[t];
        let hi = this.termStart[t + 1];
        const d = ids[j];
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (this.postDoc[mid] < d) lo = mid + 1;
          else hi = mid;
        }
        if (lo < this.termStart[t + 1] && this.postDoc[lo] === d) out[j] += this.idf[t] * this.postWeight[lo];
      }
    }
    return out;
  }

  /** Top-k blocks for a query, best first; ties broken by lower block id; blocks with score 0 are not returned. */
  search(query: string, k: number): Bm25Hits {
    const acc = this.acc;
    let nTouched = 0;
    for (const term of this.analyze(query)) {
      const t = this.vocab.get(term);
      if (t === undefined) continue;
      const w = this.idf[t];
      for (let i = this.termStart[t], e = this.termStart[t + 1]; i < e; i++) {
        const d = this.postDoc[i];
        if (acc[d] === 0) this.touched[nTouched++] = d;
        acc[d] += w * this.postWeight[i];
      }
    }
    // min-heap of the best k (worst at the root)
    const kk = Math.min(k, nTouched);
    const heapIds = new Int32Array(kk);
    const heapScores = new Float32Array(kk);
    let size = 0;
    const worse = (sa: number, ia: number, sb: number, ib: number): boolean => sa < sb || (sa === sb && ia > ib);
    const siftDown = (i: number): void => {
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < size && worse(heapScores[l], heapIds[l], heapScores[m], heapIds[m])) m = l;
        if (r < size && worse(heapScores[r], heapIds[r], heapScores[m], heapIds[m])) m = r;
        if (m === i) return;
        [heapScores[i], heapScores[m]] = [heapScores[m], heapScores[i]];
        [heapIds[i], heapIds[m]] = [heapIds[m], heapIds[i]];
        i = m;
      }
    };
    for (let j = 0; j < nTouched; j++) {
      const d = this.touched[j];
      const s = acc[d];
      acc[d] = 0;
      if (kk === 0) continue;
      if (size < kk) {
        let i = size++;
        heapIds[i] = d;
        heapScores[i] = s;
        while (i > 0) {
          const p = (i - 1) >> 1;
          if (!worse(heapScores[i], heapIds[i], heapScores[p], heapIds[p])) break;
          [heapScores[i], heapScores[p]] = [heapScores[p], heapScores[i]];
          [heapIds[i], heapIds[p]] = [heapIds[p], heapIds[i]];
          i = p;
        }
      } else if (worse(heapScores[0], heapIds[0], s, d)) {
        heapIds[0] = d;
        heapScores[0] = s;
        siftDown(0);
      }
    }
    const ids = new Int32Array(size);
    const scores = new Float32Array(size);
    for (let i = size - 1; i >= 0; i--) {
      ids[i] = heapIds[0];
      scores[i] = heapScores[0];
      heapIds[0] = heapIds[size - 1];
      heapScores[0] = heapScores[size - 1];
      size--;
      siftDown(0);
    }
    return { ids, scores };
  }
}

/** The retrieval benchmarks' BM25 baseline over passage blocks (bench/retrieval.ts and the scripts that compare with
 *  it): default k1 / b, NLTK stopwords, each block's title + text; block id = position. */
export function buildBlockBm25(blocks: Iterable<{ title: string; text: string }>): Bm25Index {
  const b = new Bm25Builder({ ...BM25_DEFAULTS, analyzer: { stopwords: NLTK_STOPWORDS } });
  for (const x of blocks) b.add(`${x.title} ${x.text}`);
  return b.build();
}

/** Builds a BM25 index over texts (block id = position). */
export async function buildBm25(texts: AsyncIterable<string> | Iterable<string>, config: Bm25Config = BM25_DEFAULTS): Promise<Bm25Index> {
  const b = new Bm25Builder(config);
  for await (const t of texts) b.add(t);
  return b.build();
}
