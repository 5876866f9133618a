/**
 * Inverse Cloze Task examples (Lee et al. 2019, ORQA §4; REALM §3.4 uses ICT to warm-start both embedders): a
 * sentence of a block is the pseudo-query and its block is the positive evidence; the sentence is removed from the
 * block with probability `removeProb` (0.9) so the retriever must learn more than word overlap, and kept otherwise
 * so it still learns that overlap matters. The other blocks of a batch are the negatives.
 *
 * `IctCorpus` holds every block pre-tokenised by sentence (title ids + one id array per sentence), so building a
 * batch costs only array copies. Batches walk a seeded permutation of the eligible blocks (>= 2 sentences), one
 * epoch after another; the cursor (epoch, position) is part of the trainer's checkpoint.
 */
import { Rng } from '../engine/index.js';
import { splitSentences } from '../corpus/sentences.js';
import { joinIds, type RetrieverTokenizer, type TokenSeq } from '../retriever/inputs.js';

/** A block as ICT needs it. */
export interface IctSourceBlock {
  /** Title (first segment of the document side). */
  title: string;
  /** Block text (split into sentences). */
  text: string;
}

/** Settings of ICT example construction. */
export interface IctDataConfig {
  /** Maximum pseudo-query length in wordpieces incl. [CLS]/[SEP] (ORQA: 64). */
  queryLen: number;
  /** Maximum block length in wordpieces incl. specials (REALM: 288). */
  blockLen: number;
  /** Probability of removing the query sentence from its block (ORQA: 0.9). */
  removeProb: number;
  /** Sentences shorter than this many wordpieces are not used as queries (when the block has a longer one). */
  minQueryTokens: number;
}

/** ORQA's settings (with 64-token queries). */
export const ICT_DATA_DEFAULTS: IctDataConfig = { queryLen: 64, blockLen: 288, removeProb: 0.9, minQueryTokens: 5 };

/** Pre-tokenised blocks: titles and sentences as wordpiece ids (no specials). */
export class IctCorpus {
  /** Title ids per block. */
  readonly titles: Int32Array[] = [];
  /** Sentence ids per block. */
  readonly sentences: Int32Array[][] = [];
  /** Indices of blocks with at least two sentences (usable for ICT). */
  private eligibleList: number[] = [];

  /** Tokenises blocks sentence by sentence. */
  static fromBlocks(tok: RetrieverTokenizer, blocks: Iterable<IctSourceBlock>): IctCorpus {
    const c = new IctCorpus();
    for (const b of blocks) c.add(tok, b);
    return c;
  }

  /** Adds one block. */
  add(tok: RetrieverTokenizer, b: IctSourceBlock): void {
    const sents = splitSentences(b.text)
      .map((s) => Int32Array.from(tok.encodeSequence(b.text.slice(s.start, s.end)).ids))
      .filter((s) => s.length > 0);
    const i = this.titles.length;
    this.titles.push(Int32Array.from(tok.encodeSequence(b.title).ids));
    this.sentences.push(sents);
    if (sents.length >= 2) this.eligibleList.push(i);
  }

  /** Number of blocks. */
  get size(): number {
    return this.titles.length;
  }

  /** Blocks usable as ICT examples. */
  get eligible(): readonly number[] {
    return this.eligibleList;
  }
}

/** One ICT batch: pseudo-queries and their blocks (row i of each belongs together). */
export interface IctBatch {
  /** `[CLS] sentence [SEP]` per example. */
  queries: TokenSeq[];
  /** `[CLS] title [SEP] block text (minus the sentence, usually) [SEP]` per example. */
  blocks: TokenSeq[];
  /** Corpus block index of each example. */
  blockIds: number[];
  /** Whether the query sentence was removed from its block. */
  removed: boolean[];
}

/** Builds the ICT example of block `b` (sentence choice and removal drawn from `rng`). */
export function ictExample(
  corpus: IctCorpus, tok: RetrieverTokenizer, b: number, rng: Rng, cfg: IctDataConfig,
): { query: TokenSeq; block: TokenSeq; removed: boolean } {
  const sents = corpus.sentences[b];
  if (!sents || sents.length < 2) throw new RangeError(`ictExample: block ${b} has fewer than 2 sentences`);
  const long: number[] = [];
  sents.forEach((s, i) => { if (s.length >= cfg.minQueryTokens) long.push(i); });
  const pool = long.length > 0 ? long : sents.map((_, i) => i);
  const q = pool[rng.nextUint32() % pool.length];
  const removed = rng.nextUint32() / 4294967296 < cfg.removeProb;
  const kept = removed ? sents.filter((_, i) => i !== q) : sents;
  let n = 0;
  for (const s of kept) n += s.length;
  const text = new Int32Array(n);
  let o = 0;
  for (const s of kept) {
    text.set(s, o);
    o += s.length;
  }
  return {
    query: joinIds(tok, sents[q], null, cfg.queryLen),
    block: joinIds(tok, corpus.titles[b], text, cfg.blockLen),
    removed,
  };
}

/** Position in the example stream: `epoch` and index into that epoch's permutation. */
export interface IctCursor {
  epoch: number;
  pos: number;
}

/** Permutation of the eligible blocks for an epoch (seeded by seed and epoch only). */
export function epochOrder(corpus: IctCorpus, seed: number, epoch: number): number[] {
  const order = corpus.eligible.slice();
  const r = new Rng(seed * 1000003 + epoch);
  for (let i = order.length - 1; i > 0; i--) {
    const j = r.nextUint32() % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Streams batches of distinct blocks, epoch after epoch, from a resumable cursor. */
export class IctBatcher {
  private order: number[];
  /** Current position (save it to resume). */
  cursor: IctCursor;

  constructor(
    private readonly corpus: IctCorpus,
    private readonly tok: RetrieverTokenizer,
    private readonly cfg: IctDataConfig,
    private readonly seed: number,
    cursor: IctCursor = { epoch: 0, pos: 0 },
  ) {
    if (corpus.eligible.length < 2) throw new RangeError(`IctBatcher: need at least 2 blocks with >= 2 sentences, have ${corpus.eligible.length}`);
    this.cursor = { ...cursor };
    this.order = epochOrder(corpus, seed, this.cursor.epoch);
  }

  /** Moves to a saved cursor. */
  seek(cursor: IctCursor): void {
    if (cursor.epoch !== this.cursor.epoch) this.order = epochOrder(this.corpus, this.seed, cursor.epoch);
    this.cursor = { ...cursor };
  }

  /** The next batch of `size` examples (blocks within a batch are distinct; an epoch's tail is dropped). */
  next(size: number, rng: Rng): IctBatch {
    if (size > this.order.length) throw new RangeError(`IctBatcher: batch ${size} exceeds the ${this.order.length} eligible blocks`);
    if (this.cursor.pos + size > this.order.length) {
      this.cursor = { epoch: this.cursor.epoch + 1, pos: 0 };
      this.order = epochOrder(this.corpus, this.seed, this.cursor.epoch);
    }
    const out: IctBatch = { queries: [], blocks: [], blockIds: [], removed: [] };
    for (let i = 0; i < size; i++) {
      const b = this.order[this.cursor.pos + i];
      const ex = ictExample(this.corpus, this.tok, b, rng, this.cfg);
      out.queries.push(ex.query);
      out.blocks.push(ex.block);
      out.blockIds.push(b);
      out.removed.push(ex.removed);
    }
    this.cursor = { epoch: this.cursor.epoch, pos: this.cursor.pos + size };
    return out;
  }
}
