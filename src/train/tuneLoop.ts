/**
 * Pieces shared by the small fine-tuning loops (ICT, ORQA-style and DPR-style retriever tuning): a seeded sampler
 * that walks the examples epoch by epoch in a fresh random order, and the optimiser update that follows a backward
 * pass (global-norm clip, learning rate from the schedule, AdamW step, gradients cleared).
 */
import { AdamW, Rng, clipGradNorm, type ParamSource } from '../engine/index.js';

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
