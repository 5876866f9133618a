/**
 * Test helpers: central finite-difference gradient checking of autograd ops, and random-input builders.
 *
 * The checked scalar is L = sum(out * w) for fixed random weights w (w is passed as the output gradient to
 * `backward`, so no op under test is used by the checker itself). The numeric side evaluates the float32 forward
 * at x +/- eps and differentiates L in float64.
 */
import { Tensor, Rng, noGrad, backward } from '../../src/engine/index.js';

/** Builds the inputs of one op case. */
export type InputFactory = (rng: Rng) => Tensor[];

/** Result of a gradient check. */
export interface GradcheckResult {
  /** True when every checked element is within tolerance. */
  ok: boolean;
  /** Largest |analytic - numeric| / (atol + rtol * max(|analytic|, |numeric|)) seen (<= 1 passes). */
  worst: number;
  /** Human-readable description of the worst element. */
  detail: string;
}

/** Options of `gradcheck`. */
export interface GradcheckOptions {
  /** Finite-difference step. Default 1e-2. */
  eps?: number;
  /** Relative tolerance. Default 1e-2. */
  rtol?: number;
  /** Absolute tolerance. Default 2e-3. */
  atol?: number;
  /** Max elements checked per input (random sample beyond this). Default 48. */
  maxPerInput?: number;
  /** Seed for the weights and the sample. */
  seed?: number;
}

function weightedSum(out: Tensor, w: Float64Array): number {
  let s = 0;
  for (let i = 0; i < out.size; i++) s += out.data[i] * w[i];
  return s;
}

/** Checks d sum(fn(inputs) * w) / d inputs (analytic, via backward) against central finite differences. */
export function gradcheck(fn: (inputs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): GradcheckResult {
  const eps = opts.eps ?? 1e-2;
  const rtol = opts.rtol ?? 1e-2;
  const atol = opts.atol ?? 2e-3;
  const maxPer = opts.maxPerInput ?? 48;
  const rng = new Rng(opts.seed ?? 1234);
  for (const t of inputs) t.grad = null;
  const out = fn(inputs);
  const w = new Float64Array(out.size);
  for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-1, 1);
  backward(out, Float32Array.from(w));
  let worst = 0;
  let detail = 'no elements checked';
  inputs.forEach((t, ti) => {
    if (!t.requiresGrad) return;
    const analytic = t.grad ? t.grad.data : new Float32Array(t.size);
    let elems = Array.from({ length: t.size }, (_, i) => i);
    if (elems.length > maxPer) elems = Array.from(rng.permutation(t.size).subarray(0, maxPer));
    for (const i of elems) {
      const orig = t.data[i];
      t.data[i] = orig + eps;
      const hiX = t.data[i];
      const lp = noGrad(() => weightedSum(fn(inputs), w));
      t.data[i] = orig - eps;
      const loX = t.data[i];
      const lm = noGrad(() => weightedSum(fn(inputs), w));
      t.data[i] = orig;
      const numeric = (lp - lm) / (hiX - loX);
      const a = analytic[i];
      const ratio = Math.abs(a - numeric) / (atol + rtol * Math.max(Math.abs(a), Math.abs(numeric)));
      if (!(ratio <= worst) || Number.isNaN(ratio)) {
        worst = Number.isNaN(ratio) ? Infinity : ratio;
        detail = `input ${ti} [${t.shape.join(',')}] element ${i}: analytic ${a}, numeric ${numeric}`;
      }
    }
  });
  return { ok: worst <= 1, worst, detail };
}

/** Random N(0,1) leaf requiring grad. */
export function rand(rng: Rng, shape: number[], scale = 1): Tensor {
  return Tensor.randn(shape, rng, scale).requiresGrad_();
}

/** Random leaf with |x| in [lo, lo + 1) and random sign (keeps inputs away from kinks/poles). */
export function randAway(rng: Rng, shape: number[], lo = 0.2): Tensor {
  const t = Tensor.zeros(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = (rng.random() < 0.5 ? -1 : 1) * (lo + rng.random());
  return t.requiresGrad_();
}

/** Random leaf with values in [lo, hi). */
export function randUniform(rng: Rng, shape: number[], lo: number, hi: number): Tensor {
  return Tensor.uniform(shape, rng, lo, hi).requiresGrad_();
}
