/**
 * Inference with a pre-trained REALM (Guu et al. 2020, §2: p(y|x) = Σ_z p(y|z,x) p(z|x)): fill the [MASK] tokens of a
 * text. The query embedder embeds `[CLS] x [SEP]`, the index returns the top k blocks, their scores are recomputed
 * with the current embedders, the null document ∅ is added, and the knowledge-augmented encoder reads each (x, z).
 *
 * Each [MASK] is one wordpiece. Candidate fillings come from every document's p(y|z,x) (./spanDistribution.ts: an
 * exact beam over positions, plus the block's windows with the span copy head) and from the null document; every
 * candidate y is then scored exactly by the marginal p(y|x) = Σ_z p(z|x) p(y|z,x). Evidence = the retrieved blocks with p(z|x), p(ŷ|z,x) of the
 * best filling ŷ and the posterior p(z|x,ŷ) (its support). This is what `realm-lm fill` and `Realm.fill` call.
 */
import { noGrad } from '../engine/index.js';
import type { Index } from '../index/types.js';
import { RealmInputError, type BlockTextSource, type BlockTokens, type RealmTokenizer } from './batch.js';
import type { JointRow } from './kaEncoder.js';
import { logSumExp64 } from './loss.js';
import type { RealmPretrainModel } from './model.js';
import { withLexicalCandidates, type LexicalCandidates } from './lexical.js';
import { retrieveForBatch } from './retrieval.js';
import { rankFillings } from './spanDistribution.js';

/** The tokenizer calls fill needs (BertTokenizer fits). */
export interface FillTokenizer extends RealmTokenizer {
  /** Text of ids (wordpieces glued). */
  decode(ids: ArrayLike<number>, opts?: { skipSpecialTokens?: boolean }): string;
  /** True for [CLS], [SEP], [PAD], [MASK], [UNK]... (never predicted). */
  isSpecialId?(id: number): boolean;
}

/** Options of `fill`. */
export interface FillOptions {
  /** Blocks retrieved (default: the model's k). */
  k?: number;
  /** Predictions returned (default 5). */
  topN?: number;
  /** Block ids never retrieved (e.g. the block the text came from, for held-out evaluation). */
  exclude?: Iterable<number>;
  /** BM25 blocks added to the MIPS ones (default: the model's `lexicalCandidates`; needs the filler's BM25 source). */
  lexicalCandidates?: number;
}

/** One filling of the masks. */
export interface FillPrediction {
  /** Decoded text of the predicted wordpieces. */
  text: string;
  /** The wordpiece ids, one per [MASK]. */
  ids: number[];
  /** Marginal probability p(y|x). */
  prob: number;
}

/** One retrieved block as evidence. */
export interface FillEvidence {
  /** Block id. */
  blockId: number;
  /** Block title. */
  title: string;
  /** Block text. */
  text: string;
  /** Retrieval probability p(z|x) (over the k blocks and ∅). */
  prob: number;
  /** p(ŷ|z,x) of the best prediction given this block. */
  answerProb: number;
  /** p(z|x,ŷ) = p(z|x) p(ŷ|z,x) / p(ŷ|x): the block's share of the best prediction (the posterior that REALM's
   *  gradient compares with p(z|x), §2.3 — the passages that supported the answer). */
  support: number;
}

/** Result of `fill`. */
export interface FillResult {
  /** Best fillings, most probable first. */
  predictions: FillPrediction[];
  /** Retrieved blocks, by p(z|x) descending. */
  evidence: FillEvidence[];
  /** p(∅|x) (0 when the model has no null document). */
  nullProb: number;
  /** p(∅|x,ŷ): the null document's share of the best prediction (0 without one). */
  nullSupport: number;
  /** Number of [MASK] tokens filled. */
  maskCount: number;
}

/** A pre-trained REALM with its tokenizer, index and block texts: `fill(text)`. */
export class RealmFiller {
  constructor(
    readonly model: RealmPretrainModel,
    readonly tok: FillTokenizer,
    readonly index: Index,
    readonly blocks: BlockTextSource,
    /** BM25 over the same blocks, for models trained with lexical candidates (null: MIPS candidates only). */
    readonly lexical: LexicalCandidates | null = null,
  ) {}

  /** Fills the [MASK] wordpieces of `text`. */
  fill(text: string, opts: FillOptions = {}): FillResult {
    const k = opts.k ?? this.model.opts.k;
    const topN = opts.topN ?? 5;
    const ids = Int32Array.from(this.tok.encodeSequence(text).ids);
    const positions: number[] = [];
    ids.forEach((id, i) => { if (id === this.tok.maskId) positions.push(i); });
    if (positions.length === 0) throw new RealmInputError(`fill: the text has no [MASK] token: ${JSON.stringify(text)}`);
    const maxX = this.model.opts.queryMaxLen - 2;
    if (positions[positions.length - 1] >= maxX) throw new RealmInputError(`fill: a [MASK] lies beyond the first ${maxX} wordpieces`);
    const x = ids.subarray(0, Math.min(ids.length, maxX));
    const M = positions.length;
    const useNull = this.model.opts.nullDocument;
    return noGrad(() => {
      const example = { inputIds: x, labels: new Int32Array(x.length) };
      const q = this.model.embedQueries([example], false); // [1, P]
      const exclude = opts.exclude ? [[...opts.exclude]] : null;
      const mips = k > 0 ? retrieveForBatch(q.data.slice(), this.index, k, exclude).ids[0] : [];
      const m = k > 0 ? opts.lexicalCandidates ?? this.model.opts.lexicalCandidates : 0;
      const found = withLexicalCandidates([mips], [example], m, this.lexical, exclude, 'fill')[0];
      const texts = found.length ? this.blocks.getMany(found) : [];
      const blockToks: BlockTokens[] = texts.map((t, i) => ({
        id: found[i], titleIds: Int32Array.from(this.tok.encodeSequence(t.title).ids), textIds: Int32Array.from(this.tok.encodeSequence(t.text).ids),
      }));
      // scores [∅, z...] recomputed with the current embedders
      const scores: number[] = useNull ? [this.model.nullScore.data[0]] : [];
      if (blockToks.length) {
        const d = this.model.embedBlocks(blockToks, false).data;
        const lex = this.model.lexicalTerms([example], [found], this.lexical, 'fill')[0]; // w·BM25(x, z) (0 when off)
        for (let j = 0; j < blockToks.length; j++) scores.push(this.model.relevance(q.data, 0, d, j) + lex[j]);
      }
      const lse = logSumExp64(scores);
      const logPz = scores.map((s) => s - lse);
      const cands: Array<BlockTokens | null> = [...(useNull ? [null] : []), ...blockToks];
      const rows: JointRow[] = cands.map((block) => ({ x, block, positions }));
      const dists = this.model.encoder.spanDistributions(this.model.tok, rows, this.model.opts.jointMaxLen); // p(y|z,x) per candidate
      const banned = (v: number): boolean => v === this.tok.maskId || v === this.tok.clsId || v === this.tok.sepId || v === this.tok.padId || (this.tok.isSpecialId?.(v) ?? false);
      const scored = rankFillings(dists, logPz, topN, banned); // every document's top fillings, by the marginal
      const predictions = scored.slice(0, topN).map((s) => ({ text: this.tok.decode(s.ids), ids: s.ids, prob: Math.exp(s.logp) }));
      const best = scored[0].ids;
      const off = useNull ? 1 : 0;
      // posterior over the candidates given the best filling: log p(z|x) + log p(ŷ|z,x) - log p(ŷ|x)
      const logJoint = cands.map((_, j) => logPz[j] + dists[j].logProb(best));
      const logPy = logSumExp64(logJoint);
      const evidence: FillEvidence[] = blockToks.map((b, j) => ({
        blockId: b.id, title: texts[j].title, text: texts[j].text, prob: Math.exp(logPz[j + off]),
        answerProb: Math.exp(dists[j + off].logProb(best)), support: Math.exp(logJoint[j + off] - logPy),
      }));
      evidence.sort((a, b) => b.prob - a.prob);
      const nullSupport = useNull ? Math.exp(logJoint[0] - logPy) : 0;
      return { predictions, evidence, nullProb: useNull ? Math.exp(logPz[0]) : 0, nullSupport, maskCount: M };
    });
  }
}
