/**
 * Pieces shared by the small fine-tuning loops (ICT, ORQA-style and DPR-style retriever tuning): a seeded sampler
 * that walks the examples epoch by epoch in a fresh random order, the optimiser update that follows a backward
 * pass (global-norm clip, learning rate from the schedule, AdamW step, gradients cleared), and the common state of
 * the two question-encoder tuners (their optimiser, schedule, tokenised questions and sampler).
 */
import { AdamW, Rng, bertDecayExclusions, clipGradNorm, linearWarmupDecay, type ParamSource, type Tensor, raisePoolLimitForTraining } from '../engine/index.js';
import { encodeQuery, type RetrieverTokenizer, type TokenSeq } from '../retriever/inputs.js';
import type { OptimSection } from './pretrainConfig.js';

/** Batches of example indices: every epoch a new seeded permutation of 0..n-1, consumed in order. */
export class EpochSampler {
  /** The generator of the permutations (callers may draw other sampling decisions from it too). */
  readonly rng: Rng;
  private order: Int32Array = new Int32Array(0);
  private cursor = 0;

  constructor(private readonly n: number, seed: number) {
    if (!(n >= 1)) throw new RangeError(`EpochSampler: need at least one example (got ${n})`);
    this.rng = new Rng(seed);
  }

  /** The next min(batch, n) indices (an epoch boundary starts the next permutation mid-batch). */
  next(batch: number): number[] {
    const out: number[] = [];
    while (out.length < Math.min(batch, this.n)) {
      if (this.cursor >= this.order.length) {
        this.order = this.rng.permutation(this.n);
        this.cursor = 0;
      }
      out.push(this.order[this.cursor++]);
    }
    return out;
  }
}

/**
 * After backward: clips the gradients of `params` to `clipNorm` (0 = no clip; gradNorm is then NaN), sets the
 * learning rate of step opt.stepCount from `schedule`, steps AdamW and clears the gradients.
 */
export function applyUpdate(
  opt: AdamW, params: ParamSource, schedule: (step: number) => number, clipNorm: number,
): { lr: number; gradNorm: number } {
  const gradNorm = clipNorm > 0 ? clipGradNorm(params, clipNorm) : NaN;
  const lr = schedule(opt.stepCount);
  opt.lr = lr;
  opt.step();
  opt.zeroGrad();
  return { lr, gradNorm };
}

/** The settings every question tuner has (AdamW's betas / eps are its defaults; linear warm-up then linear decay). */
export interface QuestionTuneSettings extends Pick<OptimSection, 'steps' | 'batchSize' | 'lr' | 'warmupSteps' | 'weightDecay' | 'clipNorm'> {
  /** Question length in wordpieces including [CLS] and [SEP]. */
  queryLen: number;
  /** Sampling seed of the batches. */
  seed: number;
}

/** Optimiser, schedule, tokenised questions and batch sampler of a tuner over `questions` training `params`. */
export abstract class QuestionTuner<C extends QuestionTuneSettings> {
  protected readonly opt: AdamW;
  protected readonly schedule: (step: number) => number;
  /** `[CLS] question [SEP]` per training question (or the example's own pre-tokenised `query`). */
  protected readonly queries: TokenSeq[];
  protected readonly sampler: EpochSampler;

  /** name: the class, for errors; minQuestions: the fewest training questions that make sense. */
  protected constructor(
    name: string, readonly cfg: C, /** The parameters this tuner trains. */ readonly params: Map<string, Tensor>, tok: RetrieverTokenizer,
    questions: ReadonlyArray<{ question: string; positives: Int32Array; query?: TokenSeq }>, minQuestions: number,
  ) {
    if (questions.length < minQuestions) throw new Error(`${name}: need at least ${minQuestions} training question${minQuestions > 1 ? 's' : ''} with an answer-bearing block (got ${questions.length})`);
    for (const e of questions) if (e.positives.length === 0) throw new Error(`${name}: question without positives: ${e.question}`);
    raisePoolLimitForTraining();
    this.opt = new AdamW(params, { lr: 0, weightDecay: cfg.weightDecay, decay: bertDecayExclusions });
    this.schedule = linearWarmupDecay({ warmupSteps: cfg.warmupSteps, totalSteps: cfg.steps, peakLr: cfg.lr });
    this.queries = questions.map((e) => e.query ?? encodeQuery(tok, e.question, cfg.queryLen));
    this.sampler = new EpochSampler(questions.length, cfg.seed);
  }

  /** Completed steps. */
  get step(): number {
    return this.opt.stepCount;
  }
}
