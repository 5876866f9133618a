/**
 * Lexical candidates for REALM's retrieval: BM25 blocks added to the MIPS top k (ours; a remedy for the cold start
 * Guu et al. 2020 §3.4 describe: "if the retriever is not well initialised, the knowledge-augmented encoder learns to
 * ignore the retrieved documents" — and then the retriever gets no reward either).
 *
 * Only the CHOICE of candidates changes: every candidate, MIPS or BM25, is scored by the current embedders
 * (f(x,z) = Embed_input(x)·Embed_doc(z)), so p(z|x), the marginal likelihood and the retriever's reward gradient are
 * exactly REALM's over a larger candidate set (the paper's top-k sum is already an approximation of the full sum; more
 * terms only tighten it). A helpful BM25 block gets pushed up in the neural retriever's scores like any other. The
 * same exclusions apply ("no trivial retrievals": x's own block or document is never a candidate).
 *
 * The query is the masked sentence x without its [MASK] pieces, decoded back to text.
 */
import { RealmInputError, type RealmExample } from './batch.js';
import { Bm25Builder, type Bm25Index } from '../retriever/bm25.js';

/** What the BM25 query needs from the tokenizer. */
export interface LexicalQueryTokenizer {
  readonly maskId: number;
  isSpecialId(id: number): boolean;
  decode(ids: ArrayLike<number>): string;
}

/** BM25 over the knowledge blocks, queried with masked sentences. */
export class LexicalCandidates {
  constructor(readonly bm25: Bm25Index, readonly tok: LexicalQueryTokenizer) {}

  /** Builds BM25 over blocks (title + text), block id = position in `blocks`. */
  static fromBlocks(blocks: Iterable<{ title: string; text: string }>, tok: LexicalQueryTokenizer): LexicalCandidates {
    const builder = new Bm25Builder();
    for (const b of blocks) builder.add(`${b.title}\n${b.text}`);
    return new LexicalCandidates(builder.build(), tok);
  }

  /** The BM25 query of an example: x without [MASK] and special pieces, as text. */
  query(e: RealmExample): string {
    return this.tok.decode(Array.from(e.inputIds).filter((id) => id !== this.tok.maskId && !this.tok.isSpecialId(id)));
  }

  /**
   * The top `m` BM25 blocks of each example, best first, skipping `exclude[b]` (ids; null = nothing). Asks BM25 for
   * more hits when exclusions leave fewer than m; an example whose query has no known term gets none.
   */
  forBatch(examples: readonly RealmExample[], m: number, exclude?: ReadonlyArray<Iterable<number> | null | undefined> | null): number[][] {
    if (!Number.isInteger(m) || m < 0) throw new RealmInputError(`LexicalCandidates: m must be a non-negative integer (got ${m})`);
    if (exclude && exclude.length !== examples.length) throw new RealmInputError(`LexicalCandidates: ${exclude.length} exclusion lists for ${examples.length} examples`);
    return examples.map((e, b) => {
      if (m === 0) return [];
      const ex = new Set(exclude?.[b] ?? []);
      const q = this.query(e);
      let depth = m + ex.size;
      for (;;) {
        const hits = Array.from(this.bm25.search(q, Math.min(depth, this.bm25.size)).ids);
        const kept = hits.filter((id) => !ex.has(id)).slice(0, m);
        if (kept.length === m || hits.length < Math.min(depth, this.bm25.size) || depth >= this.bm25.size) return kept;
        depth *= 2;
      }
    });
  }
}

/**
 * The candidates of a batch: the index's `mips` lists plus `m` BM25 blocks each from `lexical` (same exclusions);
 * `mips` unchanged when m = 0. `who` names the caller in the error raised when m > 0 without a BM25 source.
 */
export function withLexicalCandidates(
  mips: number[][], examples: readonly RealmExample[], m: number, lexical: LexicalCandidates | null | undefined,
  exclude: ReadonlyArray<Iterable<number> | null | undefined> | null, who: string,
): number[][] {
  if (m <= 0) return mips;
  if (!lexical) throw new RealmInputError(`${who}: ${m} lexical candidates per example need a BM25 source (LexicalCandidates)`);
  return mergeCandidates(mips, lexical.forBatch(examples, m, exclude));
}

/** Per example: `primary` ids in order, then the `extra` ids not already there. */
export function mergeCandidates(primary: readonly (readonly number[])[], extra: readonly (readonly number[])[]): number[][] {
  if (primary.length !== extra.length) throw new RealmInputError(`mergeCandidates: ${primary.length} vs ${extra.length} lists`);
  return primary.map((p, b) => {
    const seen = new Set(p);
    const out = [...p];
    for (const id of extra[b]) if (!seen.has(id)) { seen.add(id); out.push(id); }
    return out;
  });
}
