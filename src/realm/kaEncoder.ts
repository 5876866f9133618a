/**
 * The knowledge-augmented encoder p(y|z, x) of REALM pre-training (Guu et al. 2020, §3.2): a BERT reads the masked
 * input x joined with a retrieved block z and an MLM head predicts each masked token, p(y|z,x) = Π_j p(y_j|z,x).
 * Layout and parameter names are HF's `RealmKnowledgeAugEncoder`: the trunk `realm.*` and the MLM head
 * `cls.predictions.{transform.dense, transform.LayerNorm, bias}` whose decoder is tied to
 * `realm.embeddings.word_embeddings.weight` (src/model/mlm.ts).
 *
 * Joint input (REALM join(x, z_body), HF `batch_encode_candidates(x, block)` where a block reads `title [SEP] text`):
 * `[CLS] x [SEP] title [SEP] text [SEP]`, segment 0 for `[CLS] x [SEP]` and 1 for the block; only the block is
 * truncated (text first, then title) to fit `maxLen`, so x and its masked positions are never cut. The null document
 * (our addition on top of HF, as in the paper) is x alone: `[CLS] x [SEP]`. A batch of examples × candidates runs as
 * one padded [R, T] BERT pass, and hidden states are gathered only at x's masked positions before the head.
 * With `reader_copy_head: true` in the config (ours, off by default) a pointer-generator head (./copyHead.ts, `cls.copy.*`)
 * mixes copying a block token into p(y_j|z,x); with `reader_copy_head: "span"` (./spanCopyHead.ts, same parameters) it
 * copies a whole window of the block into p(y|z,x) of the span. The `reader_*` config extensions (ours:
 * reader_num_hidden_layers, reader_hidden_size, reader_num_attention_heads, reader_intermediate_size) give the trunk and
 * its heads their own depth and width (the embedders keep the BERT fields).
 */
import { Rng, Tensor, crossEntropy, logSoftmax, neg, reshape } from '../engine/index.js';
import { BertModel, type BertInputs } from '../model/bert.js';
import { readerTrunkConfig, type RealmConfig } from '../model/config.js';
import { initBertParams } from '../model/init.js';
import { MlmHead, gatherPositions } from '../model/mlm.js';
import { ParamStore } from '../model/params.js';
import { packBatch, type TokenSeq } from '../retriever/inputs.js';
import { RealmInputError, type BlockTokens, type RealmTokenizer } from './batch.js';
import { COPY_HEAD_PREFIX, CopyHead, type CopySources } from './copyHead.js';
import { SpanCopyHead, poolByRow } from './spanCopyHead.js';
import { ProductSpanDistribution, type SpanDistribution } from './spanDistribution.js';

/** One joint row: an example's x with one candidate block (null = the null document). */
export interface JointRow {
  /** Wordpieces of masked x (no specials). */
  x: Int32Array;
  /** Candidate block, or null for the null document. */
  block: BlockTokens | null;
  /** Positions in x to predict (ascending). */
  positions: readonly number[];
  /** Target ids at those positions (for log-likelihoods; ignored by `maskedLogProbs`). */
  targets?: readonly number[];
}

/** `[CLS] x [SEP] title [SEP] text [SEP]` (or `[CLS] x [SEP]` for the null document), block truncated to fit maxLen. */
export function jointIds(tok: Pick<RealmTokenizer, 'clsId' | 'sepId'>, x: ArrayLike<number>, block: BlockTokens | null, maxLen: number): TokenSeq {
  const nx = x.length;
  if (nx + 2 > maxLen) throw new RealmInputError(`jointIds: x has ${nx} wordpieces, more than maxLen ${maxLen} − 2`);
  let nTitle = 0;
  let nText = 0;
  if (block) {
    const room = Math.max(0, maxLen - nx - 2 - 2); // two more [SEP]s after title and text
    nTitle = Math.min(block.titleIds.length, room);
    nText = Math.min(block.textIds.length, room - nTitle);
  }
  const n = block ? nx + 2 + nTitle + nText + 2 : nx + 2;
  const ids = new Int32Array(n);
  const types = new Int32Array(n);
  ids[0] = tok.clsId;
  for (let i = 0; i < nx; i++) ids[1 + i] = x[i];
  ids[nx + 1] = tok.sepId;
  if (block) {
    let p = nx + 2;
    for (let i = 0; i < nTitle; i++) ids[p++] = block.titleIds[i];
    ids[p++] = tok.sepId;
    for (let i = 0; i < nText; i++) ids[p++] = block.textIds[i];
    ids[p++] = tok.sepId;
    types.fill(1, nx + 2, n);
  }
  return { ids, types };
}

/** Options of a KnowledgeAugEncoder. */
export interface KnowledgeAugEncoderOptions {
  /** Registry to add the parameters to (a new one by default). */
  store?: ParamStore;
  /** Initialise with BERT's init (default true). */
  init?: boolean;
}

/** HF RealmKnowledgeAugEncoder: `realm.*` BERT + `cls.predictions.*` MLM head tied to the word embeddings. */
export class KnowledgeAugEncoder {
  /** Model configuration. */
  readonly cfg: RealmConfig;
  /** The trunk, named `realm.*`. */
  readonly bert: BertModel;
  /** The MLM head `cls.predictions.*`. */
  readonly head: MlmHead;
  /** Registry of the encoder's parameters. */
  readonly store: ParamStore;
  /** The copy head `cls.copy.*` (null unless `cfg.reader_copy_head`; a SpanCopyHead when it is "span"). */
  readonly copy: CopyHead | null;

  constructor(cfg: RealmConfig, rng: Rng, opts: KnowledgeAugEncoderOptions = {}) {
    this.cfg = cfg;
    this.store = opts.store ?? new ParamStore();
    const trunk = readerTrunkConfig(cfg); // the reader's own depth / width when the config sets reader_* (ours)
    this.bert = new BertModel(trunk, rng, 'realm', { store: this.store, init: false });
    this.head = new MlmHead(trunk, this.store, this.bert.wordEmbeddings, 'cls.predictions');
    this.copy = cfg.reader_copy_head === 'span' ? new SpanCopyHead(trunk, this.store)
      : cfg.reader_copy_head === true ? new CopyHead(trunk, this.store) : null;
    if (opts.init !== false) {
      const own = new ParamStore();
      for (const [name, t] of this.parameters()) {
        own.params.set(name, t);
        own.kinds.set(name, this.store.kinds.get(name)!);
      }
      initBertParams(own, cfg, rng);
      this.copy?.initGate();
    }
  }

  /** Whether p(y|z,x) is defined per span only (the span copy head): per-token log-likelihoods do not exist. */
  get spanLevel(): boolean {
    return this.copy instanceof SpanCopyHead;
  }

  /** The encoder's parameters by HF name (`realm.*`, `cls.predictions.*`, and ours `cls.copy.*` when on). */
  parameters(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [name, t] of this.store.params) {
      if (name.startsWith('realm.') || name.startsWith('cls.predictions.') || name.startsWith(`${COPY_HEAD_PREFIX}.`)) out.set(name, t);
    }
    return out;
  }

  /** Packs rows into one padded BERT batch [R, T] and the flat gather positions (row * T + 1 + position). */
  pack(tok: Pick<RealmTokenizer, 'clsId' | 'sepId' | 'padId'>, rows: readonly JointRow[], maxLen: number): { inputs: BertInputs; gather: Int32Array } {
    if (rows.length === 0) throw new RealmInputError('KnowledgeAugEncoder: no joint rows');
    const inputs = packBatch(rows.map((r) => jointIds(tok, r.x, r.block, maxLen)), tok.padId);
    const T = inputs.seqLen;
    let n = 0;
    for (const r of rows) n += r.positions.length;
    const gather = new Int32Array(n);
    let k = 0;
    rows.forEach((r, i) => {
      for (const p of r.positions) {
        if (!(Number.isInteger(p) && p >= 0 && p < r.x.length)) throw new RealmInputError(`KnowledgeAugEncoder: masked position ${p} outside x (length ${r.x.length})`);
        gather[k++] = i * T + 1 + p;
      }
    });
    return { inputs, gather };
  }

  /** Copy sources of a packed batch: the block's title and text tokens (segment 1, not [SEP] / padding). */
  private sources(tok: Pick<RealmTokenizer, 'sepId' | 'padId'>, inputs: BertInputs, gather: Int32Array): CopySources {
    const { batch: R, seqLen: T, inputIds: ids, tokenTypeIds: types } = inputs;
    const source = new Uint8Array(R * T);
    if (types) for (let i = 0; i < R * T; i++) source[i] = types[i] === 1 && ids[i] !== tok.sepId && ids[i] !== tok.padId ? 1 : 0;
    return { rowOf: Int32Array.from(gather, (g) => Math.floor(g / T)), ids, source, rows: R, seqLen: T };
  }

  /** One BERT pass: MLM logits at the masked positions [N, vocab], the encoder output and the copy sources. */
  private run(tok: Pick<RealmTokenizer, 'clsId' | 'sepId' | 'padId'>, rows: readonly JointRow[], maxLen: number, training: boolean) {
    const { inputs, gather } = this.pack(tok, rows, maxLen);
    const { sequenceOutput } = this.bert.forward(inputs, training, { pool: false }); // [R, T, H]
    const hm = gatherPositions(sequenceOutput, gather); // [N, H]
    const logits = this.head.forward(hm); // [N, vocab]
    return { logits, sequenceOutput, hm, sources: this.copy ? this.sources(tok, inputs, gather) : null };
  }

  /** Each row's targets, flattened in row order [N]. */
  private targetsOf(rows: readonly JointRow[]): Int32Array {
    const targets: number[] = [];
    for (const r of rows) {
      if (!r.targets || r.targets.length !== r.positions.length) throw new RealmInputError('KnowledgeAugEncoder: every row needs one target per masked position');
      targets.push(...r.targets);
    }
    return Int32Array.from(targets);
  }

  /** One BERT pass over rows with targets: the targets [N], the generator's log p(y_j) [N] and the copy inputs. */
  private scoreTargets(tok: Pick<RealmTokenizer, 'clsId' | 'sepId' | 'padId'>, rows: readonly JointRow[], maxLen: number, training: boolean) {
    const y = this.targetsOf(rows);
    const out = this.run(tok, rows, maxLen, training);
    return { ...out, y, gen: neg(crossEntropy(out.logits, y, { reduction: 'none' })) }; // gen [N]
  }

  /** MLM logits at the masked positions of every row, rows in order [N = Σ positions, vocab] (the generator part
   *  only when a copy head is on). */
  logits(tok: Pick<RealmTokenizer, 'clsId' | 'sepId' | 'padId'>, rows: readonly JointRow[], maxLen: number, training: boolean): Tensor {
    return this.run(tok, rows, maxLen, training).logits;
  }

  /** log p(y_j | z, x) of each row's targets, flattened in row order [N] (with autograd; not with the span head). */
  targetLogProbs(tok: Pick<RealmTokenizer, 'clsId' | 'sepId' | 'padId'>, rows: readonly JointRow[], maxLen: number, training: boolean): Tensor {
    if (this.spanLevel) throw new RealmInputError('KnowledgeAugEncoder: the span copy head defines p(y|z,x) per span only; use rowLogProbs');
    const { y, gen, sequenceOutput, hm, sources } = this.scoreTargets(tok, rows, maxLen, training);
    return this.copy && sources ? this.copy.targetLogProbs(this.copy.terms(sequenceOutput, hm, sources), gen, sources, y) : gen;
  }

  /** log p(y | z, x) of each row's whole target span [R] (with autograd): Σ_j log p(y_j|z,x), or the span head's. */
  rowLogProbs(tok: Pick<RealmTokenizer, 'clsId' | 'sepId' | 'padId'>, rows: readonly JointRow[], maxLen: number, training: boolean): Tensor {
    if (!(this.copy instanceof SpanCopyHead)) {
      const lp = this.targetLogProbs(tok, rows, maxLen, training); // [N]
      const rowOf = Int32Array.from(rows.flatMap((r, i) => r.positions.map(() => i)));
      return reshape(poolByRow(reshape(lp, [lp.shape[0], 1]), rowOf, rows.length, 'sum'), [rows.length]);
    }
    const { y, gen, sequenceOutput, hm, sources } = this.scoreTargets(tok, rows, maxLen, training);
    return this.copy.rowLogProbs(this.copy.spanTerms(sequenceOutput, hm, sources!), gen, sources!, y);
  }

  /** Full log-distributions over the vocabulary at each masked position [N, vocab] (inference; not with the span head). */
  maskedLogProbs(tok: Pick<RealmTokenizer, 'clsId' | 'sepId' | 'padId'>, rows: readonly JointRow[], maxLen: number): Tensor {
    if (this.spanLevel) throw new RealmInputError('KnowledgeAugEncoder: the span copy head has no per-position distribution; use spanDistributions');
    const { logits, sequenceOutput, hm, sources } = this.run(tok, rows, maxLen, false);
    const gen = logSoftmax(logits, -1);
    return this.copy && sources ? this.copy.mixLogProbs(this.copy.terms(sequenceOutput, hm, sources), gen, sources) : gen;
  }

  /** Each row's distribution over fillings of its masked positions (inference): what fill and the evaluation score. */
  spanDistributions(tok: Pick<RealmTokenizer, 'clsId' | 'sepId' | 'padId'>, rows: readonly JointRow[], maxLen: number): SpanDistribution[] {
    if (this.copy instanceof SpanCopyHead) {
      const { logits, sequenceOutput, hm, sources } = this.run(tok, rows, maxLen, false);
      return this.copy.distributions(this.copy.spanTerms(sequenceOutput, hm, sources!), logSoftmax(logits, -1), sources!);
    }
    const lp = this.maskedLogProbs(tok, rows, maxLen).data; // [N, V]
    const V = this.cfg.vocab_size;
    let off = 0;
    return rows.map((r) => {
      const M = r.positions.length;
      const d = new ProductSpanDistribution(lp.subarray(off * V, (off + M) * V), V, M);
      off += M;
      return d;
    });
  }
}
