/**
 * The REALM pre-training model (Guu et al. 2020, §2–3): retriever p(z|x) + knowledge-augmented encoder p(y|z,x),
 * trained end to end by the marginal likelihood (./loss.ts).
 *
 * Parts and parameter names: the retriever is a RealmScorer (src/retriever/scorer.ts: `query_embedder.*` =
 * Embed_input, `embedder.*` = Embed_doc, separate weights), the reader is HF's RealmKnowledgeAugEncoder layout
 * (`realm.*`, `cls.predictions.*`, ./kaEncoder.ts), and `null_document_score` [1] is OUR learned relevance score of
 * the null document ∅ (the paper adds ∅ to the k candidates so the model can rely on its parameters; HF has no such
 * parameter). The candidates of an example are [∅, z_1..z_k] — the null document is always index 0.
 *
 * `forward(examples, retrieved)`: the query embedder embeds `[CLS] x [SEP]` and the document embedder re-embeds the
 * retrieved blocks `[CLS] title [SEP] text [SEP]` WITH gradient (the index only chose them), f(x,z) = q·d (times
 * `scoreScale`, 1 in the paper; plus w·BM25(x,z) with our optional `lexicalScoreWeight`, a hybrid score whose weight
 * `retrieval_lexical_score_weight` the reward can train), p(z|x) = softmax over the k+1 scores; the encoder reads each (x, z) pair and the loss is −log Σ_z p(y|z,x) p(z|x).
 * `retrieveAndForward` adds the index search (with exclusion of x's own block) in front, for the trainer.
 */
import { Rng, Tensor, add, bertDecayExclusions, concat, exp, indexSelect, matmul, mul, noGrad, reshape, slice } from '../engine/index.js';
import type { Index } from '../index/types.js';
import { loadSafetensors, saveSafetensors, type ArrayToSave, type NamedArrays } from '../io/safetensors.js';
import { resolveAliases } from '../io/aliases.js';
import type { RealmConfig } from '../model/config.js';
import type { RealmEmbedder } from '../model/embedder.js';
import { RealmScorer } from '../retriever/scorer.js';
import {
  RealmInputError, checkExample, docInputs, maskedPositionsOf, queryInputs, type BlockTokenCache, type BlockTokens,
  type RealmExample, type RealmTokenizer,
} from './batch.js';
import { COPY_HEAD_PREFIX } from './copyHead.js';
import { KnowledgeAugEncoder, type JointRow } from './kaEncoder.js';
import { batchLoss, marginalTerms, rewards, spanMarginalTerms, type MarginalMode, type MarginalTerms } from './loss.js';
import { withLexicalCandidates, type LexicalCandidates } from './lexical.js';
import { exclusionsFor, retrieveForBatch, type DocumentGroups, type ExclusionMode, type Retrieved } from './retrieval.js';

/** Name of our null-document score parameter. */
export const NULL_SCORE_NAME = 'null_document_score';

/** Name of our learned log score scale (with `learnScoreScale`): f(x,z) = exp(s) · q·d. */
export const LOG_SCORE_SCALE_NAME = 'retrieval_log_score_scale';
/** Name of the lexical term's weight [1] (ours; stored when `lexicalScoreWeight` is on). */
export const LEXICAL_WEIGHT_NAME = 'retrieval_lexical_score_weight';

/** AdamW decay rule for this model: BERT's (no decay on biases / LayerNorm) and none on the null score or score scale. */
export function realmDecay(name: string): boolean {
  return name !== NULL_SCORE_NAME && name !== LOG_SCORE_SCALE_NAME && name !== LEXICAL_WEIGHT_NAME && bertDecayExclusions(name);
}

/** Pre-training settings (besides the BERT config). */
export interface RealmPretrainOptions {
  /** Retrieved blocks per example (REALM pre-training: 8), the null document comes on top. */
  k: number;
  /** Longest query input `[CLS] x [SEP]` (x is cut to fit). */
  queryMaxLen: number;
  /** Longest document-embedder input `[CLS] title [SEP] text [SEP]` (REALM: 288). */
  blockMaxLen: number;
  /** Longest joint input `[CLS] x [SEP] title [SEP] text [SEP]` (the block is cut to fit). */
  jointMaxLen: number;
  /** Marginalise whole spans (paper, default) or each token (HF / TF code). */
  marginal: MarginalMode;
  /** Add the null document ∅ with a learned score (default true). */
  nullDocument: boolean;
  /** Initial value of the null document's score. */
  nullScoreInit: number;
  /** Trivial retrievals to drop: x's own block (default), its whole document, or none. */
  exclude: ExclusionMode;
  /** Train Embed_doc (default true, the paper). false = keep it fixed (as REALM's fine-tuning and ORQA do): the
   *  retrieved blocks are re-embedded without gradient and the index never goes stale — the cheap setting. */
  trainDocEmbedder: boolean;
  /** Train the knowledge-augmented encoder (default true, the paper). false = keep the reader at its warm start
   *  (e.g. an evidence-trained reader) while the query embedder, the null score (and Embed_doc when trained) learn
   *  from the reward p(z|x)·(p(y|z,x)/p(y|x) − 1) that the fixed reader's p(y|z,x) defines. */
  trainReader: boolean;
  /** BM25 blocks added to the k MIPS blocks of each example (./lexical.ts; 0 = REALM as published). Every candidate
   *  is still scored by the embedders, so this widens the candidate set against the retriever's cold start. */
  lexicalCandidates: number;
  /** Positive factor on the relevance scores: f(x,z) = scoreScale · Embed_input(x)·Embed_doc(z) (1 = the paper). A
   *  scalar does not change any ranking (the MIPS index is unaffected); it sets how peaked p(z|x) starts — an ICT
   *  warm start whose inner products span tens of nats gives every candidate but the top few p(z|x) ≈ 0, so the
   *  reader never learns from them. */
  scoreScale: number;
  /** Learn the score scale (ours; like CLIP's learned temperature): f(x,z) = exp(s) · q·d with s a parameter
   *  (`retrieval_log_score_scale`) starting at log(scoreScale), so the reward can sharpen p(z|x) as the retrieval
   *  proves useful instead of keeping it as flat as the warm start needed. false = the fixed scoreScale. */
  learnScoreScale: boolean;
  /** Weight w of a lexical term in the relevance score (ours, a hybrid retriever's score): f(x,z) = scale·q·d +
   *  w·BM25(x,z), with x's BM25 query as for the lexical candidates (./lexical.ts) — p(z|x) then knows how well a
   *  candidate matches x's words, which a small bi-encoder does not. 0 = off (the paper). The MIPS search is unchanged
   *  (the term only re-scores the candidates). */
  lexicalScoreWeight: number;
  /** Learn w (parameter `retrieval_lexical_score_weight`, starting at lexicalScoreWeight) from the reward. */
  learnLexicalScoreWeight: boolean;
}

/** Defaults: k = 8 + ∅, 64-token queries, 288-token blocks, joint 352, span marginal, own block excluded. */
export const REALM_PRETRAIN_DEFAULTS: RealmPretrainOptions = {
  k: 8, queryMaxLen: 64, blockMaxLen: 288, jointMaxLen: 352, marginal: 'span', nullDocument: true, nullScoreInit: 0, exclude: 'block',
  trainDocEmbedder: true, trainReader: true, lexicalCandidates: 0, scoreScale: 1, learnScoreScale: false,
  lexicalScoreWeight: 0, learnLexicalScoreWeight: false,
};

/** Per-example diagnostics (candidate index 0 is ∅ when the null document is on). */
export interface ExampleDiagnostics {
  /** Retrieved block ids (without ∅), in candidate order. */
  blockIds: number[];
  /** Recomputed relevance scores f(x,z) [C]. */
  scores: number[];
  /** p(z|x) [C]. */
  pz: number[];
  /** log p(y|z,x) = Σ_j log p(y_j|z,x) [C]. */
  logPyGivenZ: number[];
  /** log p(y|x) (span marginal). */
  logPy: number;
  /** p(y|x). */
  py: number;
  /** r(z) = p(z|x)(p(y|z,x)/p(y|x) − 1) [C] (∂ log p(y|x)/∂ f(x,z)). */
  reward: number[];
  /** Largest p(z|x) among the retrieved blocks (0 when none). */
  topDocProb: number;
  /** p(∅|x) (0 without the null document). */
  nullProb: number;
}

/** Batch diagnostics. */
export interface RealmDiagnostics {
  /** Loss value. */
  loss: number;
  /** Per example. */
  examples: ExampleDiagnostics[];
  /** Mean of topDocProb. */
  meanTopDocProb: number;
  /** Mean p(∅|x). */
  meanNullProb: number;
  /** Mean log p(y|x). */
  meanLogPy: number;
}

/** Result of a forward pass. */
export interface RealmForward {
  /** Scalar loss with autograd. */
  loss: Tensor;
  /** Numbers for logs and tests. */
  diagnostics: RealmDiagnostics;
}

/** Retriever + knowledge-augmented encoder + null document score. */
export class RealmPretrainModel {
  /** BERT configuration shared by the three BERTs. */
  readonly cfg: RealmConfig;
  /** Pre-training settings. */
  readonly opts: RealmPretrainOptions;
  /** Special token ids for building inputs. */
  readonly tok: Pick<RealmTokenizer, 'clsId' | 'sepId' | 'padId'>;
  /** Both embedders (`query_embedder.*`, `embedder.*`). */
  readonly scorer: RealmScorer;
  /** The knowledge-augmented encoder (`realm.*`, `cls.predictions.*`). */
  readonly encoder: KnowledgeAugEncoder;
  /** Learned score of the null document [1] (ours). */
  readonly nullScore: Tensor;
  /** Log of the relevance score scale [1] (ours; trained only with `learnScoreScale`). */
  readonly logScoreScale: Tensor;
  /** Weight of the BM25 term in the relevance score [1] (ours; used when `lexicalScoreWeight` ≠ 0). */
  readonly lexicalWeight: Tensor;

  constructor(cfg: RealmConfig, tok: Pick<RealmTokenizer, 'clsId' | 'sepId' | 'padId'>, rng: Rng, opts: Partial<RealmPretrainOptions> = {}, init = true) {
    this.cfg = cfg;
    this.opts = { ...REALM_PRETRAIN_DEFAULTS, ...opts };
    if (!Number.isInteger(this.opts.k) || this.opts.k < 0) throw new RealmInputError(`RealmPretrainModel: k must be a non-negative integer (got ${this.opts.k})`);
    if (this.opts.k === 0 && !this.opts.nullDocument) throw new RealmInputError('RealmPretrainModel: k = 0 needs the null document');
    if (!(this.opts.scoreScale > 0 && Number.isFinite(this.opts.scoreScale))) throw new RealmInputError(`RealmPretrainModel: scoreScale must be a positive number (got ${this.opts.scoreScale})`);
    if (!Number.isInteger(this.opts.lexicalCandidates) || this.opts.lexicalCandidates < 0) throw new RealmInputError(`RealmPretrainModel: lexicalCandidates must be a non-negative integer (got ${this.opts.lexicalCandidates})`);
    this.tok = tok;
    this.scorer = new RealmScorer(cfg, rng, { init });
    this.encoder = new KnowledgeAugEncoder(cfg, rng, { init });
    if (this.encoder.spanLevel && this.opts.marginal !== 'span') {
      throw new RealmInputError(`RealmPretrainModel: reader_copy_head "span" defines p(y|z,x) per span and needs realm.marginal "span" (got "${this.opts.marginal}")`);
    }
    this.nullScore = Tensor.param(Float32Array.of(this.opts.nullScoreInit), [1], NULL_SCORE_NAME);
    this.logScoreScale = Tensor.param(Float32Array.of(Math.log(this.opts.scoreScale)), [1], LOG_SCORE_SCALE_NAME);
    this.logScoreScale.requiresGrad = this.opts.learnScoreScale === true;
    if (!Number.isFinite(this.opts.lexicalScoreWeight)) throw new RealmInputError(`RealmPretrainModel: lexicalScoreWeight must be a finite number (got ${this.opts.lexicalScoreWeight})`);
    if (this.opts.learnLexicalScoreWeight && !this.lexicalTermOn) throw new RealmInputError('RealmPretrainModel: learnLexicalScoreWeight needs a non-zero lexicalScoreWeight (its start)');
    this.lexicalWeight = Tensor.param(Float32Array.of(this.opts.lexicalScoreWeight), [1], LEXICAL_WEIGHT_NAME);
    this.lexicalWeight.requiresGrad = this.opts.learnLexicalScoreWeight === true;
  }

  /** Whether f(x,z) has the BM25 term. */
  get lexicalTermOn(): boolean {
    return this.opts.lexicalScoreWeight !== 0;
  }

  /** Whether retrieval needs a BM25 source (LexicalCandidates): lexical candidates or the lexical term. */
  get needsLexical(): boolean {
    return (this.opts.k > 0 && this.opts.lexicalCandidates > 0) || this.lexicalTermOn;
  }

  /**
   * w·BM25(x, z) for each example's candidates [B][K] (the lexical term of f; zeros when it is off). `who` names the
   * caller in the error raised when the term is on without a BM25 source.
   */
  lexicalTerms(examples: readonly RealmExample[], ids: ReadonlyArray<ArrayLike<number>>, lexical: LexicalCandidates | null | undefined, who: string): Float64Array[] {
    const w = this.lexicalWeight.data[0];
    return this.bm25Scores(examples, ids, lexical, who)?.map((s) => s.map((x) => w * x)) ?? ids.map((l) => new Float64Array(l.length));
  }

  /** BM25(x_b, z) of each example's candidates [B][K] when the lexical term is on and there are candidates, else undefined. */
  private bm25Scores(examples: readonly RealmExample[], ids: ReadonlyArray<ArrayLike<number>>, lexical: LexicalCandidates | null | undefined, who: string): Float64Array[] | undefined {
    if (!this.lexicalTermOn || ids.every((l) => l.length === 0)) return undefined;
    if (!lexical) throw new RealmInputError(`${who}: the model's lexical score term needs a BM25 source (LexicalCandidates)`);
    return examples.map((e, b) => lexical.bm25.scoreMany(lexical.query(e), ids[b]));
  }

  /** The current relevance score scale (scoreScale, or exp of the learned log scale). */
  get scoreScale(): number {
    return this.opts.learnScoreScale ? Math.exp(this.logScoreScale.data[0]) : this.opts.scoreScale;
  }

  /** Embed_input. */
  get queryEmbedder(): RealmEmbedder {
    return this.scorer.queryEmbedder;
  }

  /** Embed_doc. */
  get docEmbedder(): RealmEmbedder {
    return this.scorer.docEmbedder;
  }

  /** Every trainable parameter by name (the null score only when the null document is on; Embed_doc and the reader
   *  only when trained). */
  parameters(): Map<string, Tensor> {
    const scorer = [...this.scorer.parameters()].filter(([n]) => this.opts.trainDocEmbedder || !n.startsWith('embedder.'));
    const out = new Map<string, Tensor>([...scorer, ...(this.opts.trainReader ? this.encoder.parameters() : [])]);
    if (this.opts.nullDocument) out.set(NULL_SCORE_NAME, this.nullScore);
    if (this.opts.learnScoreScale) out.set(LOG_SCORE_SCALE_NAME, this.logScoreScale);
    if (this.opts.learnLexicalScoreWeight) out.set(LEXICAL_WEIGHT_NAME, this.lexicalWeight);
    return out;
  }

  /** Name → live tensor of every parameter (including the null score, and the score scale when learned). */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>([...this.scorer.parameters(), ...this.encoder.parameters(), [NULL_SCORE_NAME, this.nullScore]]);
    if (this.opts.learnScoreScale) out.set(LOG_SCORE_SCALE_NAME, this.logScoreScale);
    if (this.lexicalTermOn) out.set(LEXICAL_WEIGHT_NAME, this.lexicalWeight);
    return out;
  }

  /** Loads a state dict written by `save` (scorer, encoder and null score; strict). */
  loadStateDict(loaded: NamedArrays, file = '<state dict>'): void {
    const scorer: NamedArrays = new Map();
    const encoder: NamedArrays = new Map();
    let nul = null;
    let logScale = null;
    let lexW = null;
    for (const [name, t] of loaded) {
      if (name === NULL_SCORE_NAME) nul = t;
      else if (name === LEXICAL_WEIGHT_NAME) lexW = t;
      else if (name === LOG_SCORE_SCALE_NAME) logScale = t;
      else if (name.startsWith('embedder.') || name.startsWith('query_embedder.')) scorer.set(name, t);
      else encoder.set(name, t);
    }
    if (!nul) throw new RealmInputError(`${file}: no tensor "${NULL_SCORE_NAME}"`);
    if (nul.data.length !== 1) throw new RealmInputError(`${file}: "${NULL_SCORE_NAME}" must hold one value`);
    this.scorer.loadStateDict(scorer, file);
    this.encoder.store.loadStateDict(encoder, { file });
    this.nullScore.data[0] = Number(nul.data[0]);
    if (this.opts.learnScoreScale) {
      if (!logScale) throw new RealmInputError(`${file}: no tensor "${LOG_SCORE_SCALE_NAME}" (the model learns its score scale)`);
      if (logScale.data.length !== 1) throw new RealmInputError(`${file}: "${LOG_SCORE_SCALE_NAME}" must hold one value`);
      this.logScoreScale.data[0] = Number(logScale.data[0]);
    } else if (logScale) {
      throw new RealmInputError(`${file}: tensor "${LOG_SCORE_SCALE_NAME}" but the options do not learn the score scale`);
    }
    if (lexW && !this.lexicalTermOn) throw new RealmInputError(`${file}: tensor "${LEXICAL_WEIGHT_NAME}" but the options have no lexical score term (lexicalScoreWeight 0)`);
    if (lexW) {
      if (lexW.data.length !== 1) throw new RealmInputError(`${file}: "${LEXICAL_WEIGHT_NAME}" must hold one value`);
      this.lexicalWeight.data[0] = Number(lexW.data[0]);
    } // absent with the term on: a warm start from a model without it keeps the configured start
  }

  /** Writes every parameter to one safetensors file (atomic); the tied decoder is stored once, as HF does. */
  save(path: string, metadata?: Readonly<Record<string, string>>): void {
    const out = new Map<string, ArrayToSave>();
    for (const [name, t] of this.stateDict()) out.set(name, { shape: t.shape, data: t.data });
    saveSafetensors(path, out, metadata);
  }

  /** Loads a file written by `save`. */
  load(path: string): void {
    this.loadStateDict(resolveAliases(loadSafetensors(path)), path);
  }

  /**
   * Warm start of the encoder from an MLM-pre-trained BERT (REALM §3.4; e.g. our BertForMaskedLM state dict or an HF
   * BertForMaskedLM file): `<fromPrefix>.*` → `realm.*`, `cls.predictions.*` as is; a missing pooler (HF's MLM model
   * has none; the encoder does not use it) and a missing copy head (`cls.copy.*`, ours) keep their current values;
   * other names (NSP head...) are ignored.
   */
  initEncoderFromMlm(loaded: NamedArrays | ReadonlyMap<string, Tensor>, fromPrefix = 'bert', file = '<state dict>'): void {
    const out: NamedArrays = new Map();
    for (const [name, t] of loaded) {
      const arr = t instanceof Tensor ? { dtype: 'F32' as const, shape: t.shape.slice(), data: t.data } : t;
      if (name.startsWith(`${fromPrefix}.`)) out.set(`realm.${name.slice(fromPrefix.length + 1)}`, arr);
      else if (name.startsWith('cls.predictions.')) out.set(name, arr);
    }
    for (const [name, t] of this.encoder.parameters()) {
      const keep = name.startsWith('realm.pooler.') || name.startsWith(`${COPY_HEAD_PREFIX}.`); // not in an MLM model: keep the init
      if (!out.has(name) && keep) out.set(name, { dtype: 'F32', shape: t.shape.slice(), data: t.data.slice() });
    }
    this.encoder.store.loadStateDict(out, { file });
  }

  /** Warm start of both embedders from an ICT-trained retriever file (RealmScorer / HF RealmEmbedder layouts). */
  initRetrieverFrom(path: string): void {
    this.scorer.load(path);
  }

  /** The dense part of f(x,z) without autograd (inference): scoreScale · q[qRow]·d[dRow] for row-major [., P] query /
   *  document vectors (callers add `lexicalTerms` when the model has the BM25 term). */
  relevance(q: Float32Array, qRow: number, d: Float32Array, dRow: number): number {
    const P = this.cfg.retriever_proj_size;
    let s = 0;
    for (let c = 0; c < P; c++) s += q[qRow * P + c] * d[dRow * P + c];
    return s * this.scoreScale;
  }

  /** Query vectors Embed_input(`[CLS] x [SEP]`) [B, P]. */
  embedQueries(examples: readonly RealmExample[], training: boolean): Tensor {
    return this.queryEmbedder.forward(queryInputs(this.tok, examples, this.opts.queryMaxLen), training);
  }

  /** Document vectors Embed_doc(`[CLS] title [SEP] text [SEP]`) [K, P]. */
  embedBlocks(blocks: readonly BlockTokens[], training: boolean): Tensor {
    return this.docEmbedder.forward(docInputs(this.tok, blocks, this.opts.blockMaxLen), training);
  }

  /**
   * Loss and diagnostics for examples and their retrieved blocks (`retrieved[b]` = blocks of example b, any number
   * ≥ 0; the null document is added in front; equal ids must carry equal tokens: each distinct id is embedded once).
   * `queryVecs` [B, P] reuses query vectors already computed with grad.
   */
  forward(
    examples: readonly RealmExample[], retrieved: ReadonlyArray<readonly BlockTokens[]>,
    o: { training?: boolean; queryVecs?: Tensor; bm25?: ReadonlyArray<ArrayLike<number>> } = {},
  ): RealmForward {
    const training = o.training ?? true;
    const B = examples.length;
    if (B === 0) throw new RealmInputError('RealmPretrainModel.forward: empty batch');
    if (retrieved.length !== B) throw new RealmInputError(`RealmPretrainModel.forward: ${retrieved.length} retrieval lists for ${B} examples`);
    const useNull = this.opts.nullDocument;
    const positions = examples.map((e, b) => {
      checkExample(e, `example ${b}`);
      if (retrieved[b].length === 0 && !useNull) throw new RealmInputError(`example ${b}: no retrieved block and no null document`);
      return maskedPositionsOf(e);
    });
    if (this.lexicalTermOn && retrieved.some((l) => l.length > 0) && (!o.bm25 || o.bm25.length !== B || o.bm25.some((l, b) => l.length !== retrieved[b].length))) {
      throw new RealmInputError('RealmPretrainModel.forward: the lexical score term needs bm25[b][j] = BM25(x_b, z_j) for every candidate');
    }
    const q = o.queryVecs ?? this.embedQueries(examples, training); // [B, P]
    if (q.ndim !== 2 || q.shape[0] !== B) throw new RealmInputError(`RealmPretrainModel.forward: queryVecs must be [${B}, P], got [${q.shape.join(', ')}]`);

    // re-embed every distinct retrieved block once, with gradient
    const unique: BlockTokens[] = [];
    const slot = new Map<number, number>();
    for (const list of retrieved) for (const blk of list) if (!slot.has(blk.id)) { slot.set(blk.id, unique.length); unique.push(blk); }
    const docVecs = unique.length === 0 ? null // [U, P]
      : this.opts.trainDocEmbedder ? this.embedBlocks(unique, training) : noGrad(() => this.embedBlocks(unique, false));

    // relevance scores per example: [∅, z_1..z_k]
    const scores: Tensor[] = examples.map((_, b) => {
      const parts: Tensor[] = [];
      if (useNull) parts.push(this.nullScore);
      const K = retrieved[b].length;
      if (K > 0) {
        const d = indexSelect(docVecs!, 0, Int32Array.from(retrieved[b], (blk) => slot.get(blk.id)!)); // [K, P]
        const qd = reshape(matmul(slice(q, 0, b, b + 1), d, { transB: true, alpha: this.opts.learnScoreScale ? 1 : this.opts.scoreScale }), [K]);
        const dense = this.opts.learnScoreScale ? mul(qd, exp(this.logScoreScale)) : qd; // scale · q·d
        parts.push(this.lexicalTermOn ? add(dense, mul(Tensor.fromArray(o.bm25![b], [K]), this.lexicalWeight)) : dense); // + w·BM25(x, z)
      }
      return parts.length === 1 ? parts[0] : concat(parts, 0);
    });

    // knowledge-augmented encoder: one row per (example, candidate), in candidate order
    const rows: JointRow[] = [];
    examples.forEach((e, b) => {
      const targets = positions[b].map((p) => e.labels[p]);
      const cands: Array<BlockTokens | null> = [...(useNull ? [null] : []), ...retrieved[b]];
      for (const block of cands) rows.push({ x: e.inputIds, block, positions: positions[b], targets });
    });
    const terms: MarginalTerms[] = [];
    let off = 0;
    // a fixed reader (trainReader false) runs without a graph: its p(y|z,x) are constants of the loss, whose gradient
    // then reaches only the scores (dropout is still applied in training, as when the reader trains)
    const reader = <T>(f: () => T): T => (this.opts.trainReader ? f() : noGrad(f));
    if (this.encoder.spanLevel) { // p(y|z,x) per span (the span copy head)
      const rowLogp = reader(() => this.encoder.rowLogProbs(this.tok, rows, this.opts.jointMaxLen, training)); // [Σ C]
      scores.forEach((sc) => {
        terms.push(spanMarginalTerms(sc, slice(rowLogp, 0, off, off + sc.shape[0])));
        off += sc.shape[0];
      });
    } else {
      const tokLogp = reader(() => this.encoder.targetLogProbs(this.tok, rows, this.opts.jointMaxLen, training)); // [N]
      scores.forEach((sc, b) => {
        const C = sc.shape[0];
        const M = positions[b].length;
        terms.push(marginalTerms(sc, reshape(slice(tokLogp, 0, off, off + C * M), [C, M]), this.opts.marginal));
        off += C * M;
      });
    }
    const loss = batchLoss(terms);
    return { loss, diagnostics: this.diagnose(loss, terms, scores, retrieved) };
  }

  private diagnose(loss: Tensor, terms: MarginalTerms[], scores: Tensor[], retrieved: ReadonlyArray<readonly BlockTokens[]>): RealmDiagnostics {
    const useNull = this.opts.nullDocument;
    const examples = terms.map((t, b): ExampleDiagnostics => {
      const logPyz = Array.from(t.logPyGivenZ.data);
      const r = rewards(t.logPz.data, logPyz);
      const docP = useNull ? r.pz.slice(1) : r.pz;
      return {
        blockIds: retrieved[b].map((z) => z.id), scores: Array.from(scores[b].data), pz: r.pz, logPyGivenZ: logPyz,
        logPy: r.logPy, py: Math.exp(r.logPy), reward: r.reward, topDocProb: docP.length ? Math.max(...docP) : 0,
        nullProb: useNull ? r.pz[0] : 0,
      };
    });
    const mean = (f: (e: ExampleDiagnostics) => number): number => examples.reduce((s, e) => s + f(e), 0) / examples.length;
    return {
      loss: loss.item(), examples, meanTopDocProb: mean((e) => e.topDocProb), meanNullProb: mean((e) => e.nullProb), meanLogPy: mean((e) => e.logPy),
    };
  }

  /**
   * The trainer's step body: embed the queries, search `index` (stale vectors) for the top k blocks excluding trivial
   * ones (`opts.exclude`), add `opts.lexicalCandidates` BM25 blocks from `lexical` (same exclusions), fetch their
   * tokens, and run `forward`. Search uses dropout-free query vectors. With k = 0 (null document only: the
   * no-retrieval baseline) `index` may be null.
   */
  retrieveAndForward(
    examples: readonly RealmExample[], index: Index | null, blocks: Pick<BlockTokenCache, 'get'>,
    o: { training?: boolean; groups?: DocumentGroups; k?: number; lexical?: LexicalCandidates } = {},
  ): RealmForward & { retrieved: Retrieved } {
    const training = o.training ?? true;
    const q = this.embedQueries(examples, training);
    const dropout = this.cfg.hidden_dropout_prob > 0 || this.cfg.attention_probs_dropout_prob > 0;
    const searchVecs = training && dropout ? noGrad(() => this.embedQueries(examples, false)).data : q.data.slice();
    const k = o.k ?? this.opts.k;
    const m = k > 0 ? this.opts.lexicalCandidates : 0;
    if (k > 0 && !index) throw new RealmInputError(`retrieveAndForward: k = ${k} needs an index`);
    const exclude = k > 0 ? exclusionsFor(examples, this.opts.exclude, o.groups) : null;
    const retrieved = k > 0 && index
      ? retrieveForBatch(searchVecs, index, k, exclude)
      : { ids: examples.map(() => []), staleScores: examples.map(() => []) };
    const ids = withLexicalCandidates(retrieved.ids, examples, m, o.lexical, exclude, 'retrieveAndForward');
    const bm25 = this.bm25Scores(examples, ids, o.lexical, 'retrieveAndForward');
    const out = this.forward(examples, ids.map((list) => blocks.get(list)), { training, queryVecs: q, bm25 });
    const staleScores = ids.map((list, b) => list.map((_, j) => retrieved.staleScores[b][j] ?? Number.NaN)); // NaN: a BM25 candidate
    return { ...out, retrieved: { ids, staleScores } };
  }
}
