/**
 * Dual-encoder fine-tuning on open-domain QA pairs, DPR-style (Karpukhin et al. 2020 §3.2): unlike the ORQA-style
 * tuner (qaRetriever.ts), BOTH embedders learn — Embed_input maps questions and Embed_doc maps blocks into a new
 * shared space — so the corpus must be re-embedded afterwards (REALM §3.4's refresh, done once here). Each question i
 * of a batch of B brings one answer-bearing block p_i (drawn from its positives) and one "hard negative" h_i (a
 * high-BM25 block that contains no answer, DPR's best setting); every question scores all 2B blocks of the batch:
 *
 *   S = scale · Embed_input(q) [Embed_doc(p); Embed_doc(h)]ᵀ   [B, 2B]
 *   L = mean_i CE(S_i, i)       (the other questions' positives and every hard negative are the negatives)
 *
 * Gradients flow into both BERTs through autograd (dropout from the scorer's Rng, sampling from a seeded Rng of its
 * own). Weak supervision as in qaRetriever.ts: positives are candidate blocks whose text contains an answer.
 */
import { crossEntropy, scale } from '../engine/index.js';
import { packBatch, type RetrieverTokenizer, type TokenSeq } from '../retriever/inputs.js';
import type { RealmScorer } from '../retriever/scorer.js';
import type { QaTuneConfig, QaTuneExample } from './qaRetriever.js';
import { QuestionTuner, applyUpdate } from './tuneLoop.js';

/** One training question with its answer-bearing blocks (as for the ORQA tuner) and its hard negatives (block ids). */
export interface DprTuneExample extends QaTuneExample {
  /** High-ranked blocks without an answer (may be empty: the in-batch negatives remain). */
  negatives: Int32Array;
}

/** Settings: those of the ORQA tuner (optimiser, scale, question length, seed) plus the hard-negative switch. */
export interface DprTuneConfig extends QaTuneConfig {
  /** Add each question's first hard negative to the batch's blocks (DPR: "one BM25 negative per question"). */
  hardNegatives: boolean;
}

/** Defaults (DPR's recipe, scaled to a BERT-mini on 2 cores). */
export const DPR_TUNE_DEFAULTS: DprTuneConfig = {
  steps: 600, batchSize: 32, lr: 5e-5, warmupSteps: 50, weightDecay: 0.01, clipNorm: 1, logitScale: 1, queryLen: 32, seed: 1,
  hardNegatives: true,
};

/** What one step did. */
export interface DprTuneStepStats {
  step: number;
  /** Mean in-batch cross-entropy. */
  loss: number;
  /** Share of questions whose positive scores highest among the batch's 2B (or B) blocks. */
  accuracy: number;
  lr: number;
  gradNorm: number;
}

/** Trains both embedders of `scorer` on (question, positive block, hard negative block) triples. */
export class DprRetrieverTuner extends QuestionTuner<DprTuneConfig> {
  /** blockTokens(id): `[CLS] title [SEP] text [SEP]` of block `id` (encodeBlock, at the caller's block length). */
  constructor(
    private readonly scorer: RealmScorer,
    private readonly tok: RetrieverTokenizer,
    private readonly blockTokens: (id: number) => TokenSeq,
    private readonly examples: readonly DprTuneExample[],
    cfg: Partial<DprTuneConfig> = {},
  ) {
    super('DprRetrieverTuner', { ...DPR_TUNE_DEFAULTS, ...cfg }, scorer.parameters(), tok, examples, 2); // the others are the negatives
  }

  /** One optimisation step on the next batch (epochs in a seeded random order; a random positive per question). */
  trainStep(): DprTuneStepStats {
    const idx = this.sampler.next(this.cfg.batchSize);
    const B = idx.length;
    const pick = (a: Int32Array): number => a[this.sampler.rng.nextUint32() % a.length];
    const pos = idx.map((i) => pick(this.examples[i].positives));
    // a hard negative must not be another question's positive in this batch (it would be a false negative twice)
    const inBatch = new Set(pos);
    const neg = this.cfg.hardNegatives
      ? idx.map((i) => this.examples[i].negatives.find((z) => !inBatch.has(z))).filter((z): z is number => z !== undefined)
      : [];
    const blockIds = [...pos, ...neg];
    const q = this.scorer.queryEmbedder.forward(packBatch(idx.map((i) => this.queries[i]), this.tok.padId), true); // [B, P]
    const d = this.scorer.docEmbedder.forward(packBatch(blockIds.map(this.blockTokens), this.tok.padId), true); // [B + H, P]
    const s = this.scorer.relevance(q, d); // [B, B + H]
    const targets = Int32Array.from({ length: B }, (_, i) => i);
    const loss = crossEntropy(this.cfg.logitScale === 1 ? s : scale(s, this.cfg.logitScale), targets);
    const cols = blockIds.length;
    let correct = 0;
    for (let i = 0; i < B; i++) {
      let best = 0;
      for (let j = 1; j < cols; j++) if (s.data[i * cols + j] > s.data[i * cols + best]) best = j;
      if (best === i || (best < B && pos[best] === pos[i])) correct++; // two questions may share a positive block
    }
    this.opt.zeroGrad();
    loss.backward(undefined, { freeActivations: true });
    const { lr, gradNorm } = applyUpdate(this.opt, this.params, this.schedule, this.cfg.clipNorm);
    return { step: this.opt.stepCount, loss: loss.item(), accuracy: correct / B, lr, gradNorm };
  }
}
