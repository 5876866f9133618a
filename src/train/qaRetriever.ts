/**
 * Question-encoder fine-tuning on open-domain QA pairs, ORQA-style (Lee et al. 2019 §5; REALM §4 fine-tunes the
 * retriever the same way): the document embedder and the corpus vectors stay fixed — ORQA keeps the block encoder
 * and its pre-computed index frozen, so nothing is re-embedded — and the query embedder (Embed_input) learns to map
 * questions, not ICT's pseudo-query sentences, to the blocks that answer them. The reader is replaced by answer
 * matching (weak supervision, as ORQA's and DPR's distant supervision): P(q) = the blocks among a candidate list (the
 * top-k of BM25 and of the starting retriever) whose text contains an answer. The loss is the marginal
 * log-likelihood of P(q) under retrieval over the WHOLE corpus (exact MIPS scores, no sampled negatives):
 *
 *   s(q, z) = scale · ⟨Embed_input(q), Embed_doc(z)⟩,   p(z|q) = softmax_z s(q, z) over all N blocks
 *   L(q) = −log Σ_{z∈P(q)} p(z|q) = logsumexp_{all z} s − logsumexp_{z∈P(q)} s
 *   ∂L/∂s(q, z) = p(z|q) − p(z | q, z ∈ P(q))
 *
 * i.e. REALM's retrieval gradient with p(y|z, x) = 1 for an answer-bearing block and 0 otherwise. The scores and the
 * gradient w.r.t. the query vectors are two GEMMs against the fixed [N, P] document matrix; only the query encoder
 * runs through autograd.
 */
import { backward, getBackend } from '../engine/index.js';
import type { RealmScorer } from '../retriever/scorer.js';
import { embedTokenized } from './refreshJob.js';
import { QuestionTuner, applyUpdate, type QuestionTuneSettings } from './tuneLoop.js';
import { encodeQuery, packBatch, type RetrieverTokenizer, type TokenSeq } from '../retriever/inputs.js';

/** One training question: its text and the ids of the blocks that count as answering it. */
export interface QaTuneExample {
  question: string;
  /** Block ids (rows of the document matrix) containing an answer; never empty. */
  positives: Int32Array;
  /** Pre-tokenised `[CLS] query [SEP]` used instead of encoding `question` (e.g. a masked sentence as REALM embeds it). */
  query?: TokenSeq;
  /** Block ids left out of the softmax (e.g. the query's own document, as REALM excludes it); never a positive. */
  exclude?: Int32Array;
}

/** Fine-tuning settings: the optimiser's (AdamW, linear warm-up then linear decay; betas / eps are AdamW's defaults) and these. */
export interface QaTuneConfig extends QuestionTuneSettings {
  /** Multiplier of the inner product inside the softmax (ICT's logit scale, so the start is ICT's distribution). */
  logitScale: number;
}

/** Defaults (what the retrieval benchmark's fine-tune used unless its command says otherwise). */
export const QA_TUNE_DEFAULTS: QaTuneConfig = {
  steps: 600, batchSize: 32, lr: 5e-5, warmupSteps: 50, weightDecay: 0.01, clipNorm: 1, logitScale: 1, queryLen: 32, seed: 1,
};

/** What one step did. */
export interface QaTuneStepStats {
  step: number;
  /** Mean L(q) over the batch. */
  loss: number;
  /** Mean retrieval probability of the answer-bearing blocks, Σ_{z∈P} p(z|q). */
  positiveMass: number;
  lr: number;
  gradNorm: number;
}

/**
 * Weak supervision: for each question i, the candidate blocks (e.g. the BM25 top-k followed by the retriever's
 * top-k) that contain an answer, duplicates dropped. Questions without any come back with an empty array.
 */
export function minePositives(
  n: number,
  candidatesOf: (i: number) => ArrayLike<number>,
  contains: (i: number, blockId: number) => boolean,
): Int32Array[] {
  const out: Int32Array[] = [];
  for (let i = 0; i < n; i++) {
    const seen = new Set<number>();
    const pos: number[] = [];
    for (const id of Array.from(candidatesOf(i))) {
      if (seen.has(id)) continue;
      seen.add(id);
      if (contains(i, id)) pos.push(id);
    }
    out.push(Int32Array.from(pos));
  }
  return out;
}

/**
 * Full-corpus marginal loss and its gradient for a batch. scores [B, N] holds s(q, z) on entry and ∂L/∂s on return
 * (scaled by 1/B: the loss is the batch mean). Returns the per-question losses and positive masses.
 */
export function marginalLossGrad(scores: Float32Array, B: number, N: number, positives: readonly Int32Array[]): { loss: Float64Array; mass: Float64Array } {
  const loss = new Float64Array(B);
  const mass = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    const row = scores.subarray(b * N, (b + 1) * N);
    const pos = positives[b];
    let m = -Infinity;
    for (let j = 0; j < N; j++) if (row[j] > m) m = row[j];
    let mp = -Infinity;
    for (const z of pos) if (row[z] > mp) mp = row[z];
    let sp = 0;
    for (const z of pos) sp += Math.exp(row[z] - mp);
    const pz = Array.from(pos, (z) => Math.exp(row[z] - mp) / sp); // p(z | q, z ∈ P), before row is overwritten
    let all = 0;
    for (let j = 0; j < N; j++) all += (row[j] = Math.exp(row[j] - m));
    loss[b] = m + Math.log(all) - (mp + Math.log(sp));
    mass[b] = Math.exp(-loss[b]);
    // ∂L/∂s_j = p_j − [j ∈ P] p_j / Σ_P p, for the batch mean (÷ B); positives are distinct ids
    const invAll = 1 / (all * B);
    for (let j = 0; j < N; j++) row[j] *= invAll;
    pos.forEach((z, k) => { row[z] -= pz[k] / B; });
  }
  return { loss, mass };
}

/** Trains the query embedder of `scorer` against fixed document vectors. */
export class QaRetrieverTuner extends QuestionTuner<QaTuneConfig> {
  /**
   * docVecs: the corpus vectors [N, dim] row-major (row = block id), from the scorer's document embedder.
   * examples: training questions with at least one positive each.
   */
  constructor(
    private readonly scorer: RealmScorer,
    private readonly tok: RetrieverTokenizer,
    private readonly docVecs: Float32Array,
    private readonly dim: number,
    private readonly examples: readonly QaTuneExample[],
    cfg: Partial<QaTuneConfig> = {},
  ) {
    super('QaRetrieverTuner', { ...QA_TUNE_DEFAULTS, ...cfg }, scorer.queryEmbedder.parameters(), tok, examples, 1);
    for (const e of examples) {
      if (!e.exclude) continue;
      const ex = new Set(e.exclude);
      if (e.positives.some((z) => ex.has(z))) throw new Error(`QaRetrieverTuner: a positive block is also excluded (${e.question})`);
    }
    if (docVecs.length % dim !== 0) throw new Error(`QaRetrieverTuner: ${docVecs.length} floats is not a whole number of ${dim}-d vectors`);
  }

  /** One optimisation step on the next batch of questions (epochs in a seeded random order). */
  trainStep(): QaTuneStepStats {
    const be = getBackend();
    const idx = this.sampler.next(this.cfg.batchSize);
    const B = idx.length;
    const P = this.dim;
    const N = this.docVecs.length / P;
    const q = this.scorer.queryEmbedder.forward(packBatch(idx.map((i) => this.queries[i]), this.tok.padId), true); // [B, P]
    const s = this.cfg.logitScale;
    const scores = new Float32Array(B * N);
    be.sgemm(false, true, B, N, P, s, q.data, P, this.docVecs, P, 0, scores, N); // s · Q Dᵀ  [B, N]
    idx.forEach((i, b) => { for (const z of this.examples[i].exclude ?? []) scores[b * N + z] = -Infinity; }); // out of the softmax, zero gradient
    const { loss, mass } = marginalLossGrad(scores, B, N, idx.map((i) => this.examples[i].positives));
    const gq = new Float32Array(B * P);
    be.sgemm(false, false, B, P, N, s, scores, N, this.docVecs, P, 0, gq, P); // ∂L/∂Q = s · (∂L/∂S) D  [B, P]
    this.opt.zeroGrad();
    backward(q, gq, { freeActivations: true });
    const { lr, gradNorm } = applyUpdate(this.opt, this.params, this.schedule, this.cfg.clipNorm);
    const mean = (a: Float64Array): number => a.reduce((x, y) => x + y, 0) / a.length;
    return { step: this.opt.stepCount, loss: mean(loss), positiveMass: mean(mass), lr, gradNorm };
  }
}

/** Query vectors [n, P] of questions with the scorer's query embedder (no dropout, no autograd). */
export function embedQuestions(scorer: RealmScorer, tok: RetrieverTokenizer, questions: readonly string[], queryLen: number): Float32Array {
  return embedTokenized(scorer.queryEmbedder, questions.map((q) => encodeQuery(tok, q, queryLen)), tok.padId, 256);
}
