/**
 * Optimisation: AdamW with decoupled weight decay (torch.optim.AdamW semantics, BERT's optimiser with eps 1e-6 and
 * no decay on biases / LayerNorm, REALM §B), the linear warm-up + linear decay learning-rate schedule, and global
 * gradient-norm clipping. The update itself is the backend's fused `adamwStep` kernel. `state()` / `loadState()`
 * expose step count and moments as named Float32Arrays for checkpoint resume.
 */
import { releaseGrad } from './autograd.js';
import { getBackend } from './backends/index.js';
import { Tensor, TensorError } from './tensor.js';

/** Parameters given to the optimiser: a list (named p0, p1, ...), a Map, or a plain record of name -> tensor. */
export type ParamSource = readonly Tensor[] | ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

/** AdamW hyper-parameters. */
export interface AdamWOptions {
  /** Learning rate (can be changed between steps via `opt.lr`). Default 1e-4. */
  lr?: number;
  /** Exponential decay rates of the first and second moments. Default [0.9, 0.999]. */
  betas?: [number, number];
  /** Denominator epsilon. Default 1e-6 (BERT). */
  eps?: number;
  /** Decoupled weight-decay coefficient. Default 0.01. */
  weightDecay?: number;
  /** Per-parameter decay flag from its name (true = decay). Default: decay everything. See bertDecayExclusions. */
  decay?: (name: string) => boolean;
}

/** Serialisable optimiser state. */
export interface AdamWState {
  /** Number of completed steps. */
  step: number;
  /** First moments by parameter name. */
  m: Record<string, Float32Array>;
  /** Second moments by parameter name. */
  v: Record<string, Float32Array>;
}

/** BERT's decay rule: false (no weight decay) for names ending in "bias" or containing "LayerNorm" / "layer_norm". */
export function bertDecayExclusions(name: string): boolean {
  return !(name.endsWith('bias') || name.includes('LayerNorm') || name.includes('layer_norm'));
}

/** Normalises a ParamSource into [name, tensor] pairs (insertion order). */
export function namedParams(params: ParamSource): Array<[string, Tensor]> {
  if (Array.isArray(params)) return (params as readonly Tensor[]).map((p, i) => [p.name ?? `p${i}`, p]);
  if (params instanceof Map) return [...(params as ReadonlyMap<string, Tensor>).entries()];
  return Object.entries(params as Readonly<Record<string, Tensor>>);
}

interface Slot {
  name: string;
  p: Tensor;
  m: Float32Array;
  v: Float32Array;
  decay: boolean;
}

/** AdamW optimiser over a fixed set of parameters. */
export class AdamW {
  /** Current learning rate. */
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Completed steps (bias corrections use stepCount + 1 during a step). */
  stepCount = 0;
  private readonly slots: Slot[];

  constructor(params: ParamSource, opts: AdamWOptions = {}) {
    this.lr = opts.lr ?? 1e-4;
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-6;
    this.weightDecay = opts.weightDecay ?? 0.01;
    const decay = opts.decay ?? (() => true);
    const named = namedParams(params);
    const seen = new Set<string>();
    this.slots = named.map(([name, p]) => {
      if (seen.has(name)) throw new TensorError(`AdamW: duplicate parameter name "${name}"`);
      seen.add(name);
      if (!p.requiresGrad) throw new TensorError(`AdamW: parameter "${name}" does not require grad`);
      return { name, p, m: new Float32Array(p.size), v: new Float32Array(p.size), decay: decay(name) };
    });
  }

  /** Parameter names in update order. */
  get names(): string[] {
    return this.slots.map((s) => s.name);
  }

  /** Whether the named parameter receives weight decay. */
  decays(name: string): boolean {
    const s = this.slots.find((x) => x.name === name);
    if (!s) throw new TensorError(`AdamW: unknown parameter "${name}"`);
    return s.decay;
  }

  /** One update of every parameter that has a gradient (parameters with grad === null are skipped). */
  step(): void {
    const be = getBackend();
    const t = this.stepCount + 1;
    const bc1 = 1 - Math.pow(this.beta1, t);
    const bc2 = 1 - Math.pow(this.beta2, t);
    for (const s of this.slots) {
      const g = s.p.grad;
      if (!g) continue;
      if (g.size !== s.p.size) throw new TensorError(`AdamW: gradient of "${s.name}" has size ${g.size}, parameter ${s.p.size}`);
      be.adamwStep(s.p.data, g.data, s.m, s.v, this.lr, this.beta1, this.beta2, this.eps, s.decay ? this.weightDecay : 0, bc1, bc2);
    }
    this.stepCount = t;
  }

  /**
   * Drops every parameter's gradient (grad = null). Engine-allocated gradient arrays are recycled through the
   * buffer pool, so do not keep references to `.grad` data across zeroGrad().
   */
  zeroGrad(): void {
    for (const s of this.slots) releaseGrad(s.p);
  }

  /** Snapshot of step and moments (copies). */
  state(): AdamWState {
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const s of this.slots) {
      m[s.name] = s.m.slice();
      v[s.name] = s.v.slice();
    }
    return { step: this.stepCount, m, v };
  }

  /** Restores a snapshot from `state()`; every parameter must be present with matching size. */
  loadState(st: AdamWState): void {
    if (!Number.isInteger(st.step) || st.step < 0) throw new TensorError(`AdamW.loadState: invalid step ${st.step}`);
    for (const s of this.slots) {
      const m = st.m[s.name];
      const v = st.v[s.name];
      if (!m || !v) throw new TensorError(`AdamW.loadState: missing moments for parameter "${s.name}"`);
      if (m.length !== s.p.size || v.length !== s.p.size) {
        throw new TensorError(`AdamW.loadState: moments of "${s.name}" have sizes ${m.length}/${v.length}, parameter ${s.p.size}`);
      }
    }
    for (const s of this.slots) {
      s.m.set(st.m[s.name]);
      s.v.set(st.v[s.name]);
    }
    this.stepCount = st.step;
  }
}

/** Linear warm-up/decay schedule settings. */
export interface LinearWarmupDecayOptions {
  /** Steps of linear warm-up from 0 to peakLr. */
  warmupSteps: number;
  /** Step at which the learning rate reaches 0. */
  totalSteps: number;
  /** Learning rate at the end of warm-up. */
  peakLr: number;
}

/**
 * lr(step) for 0-based optimiser step numbers (HF get_linear_schedule_with_warmup): peakLr * step / warmupSteps while
 * step < warmupSteps, then peakLr * (totalSteps - step) / (totalSteps - warmupSteps), floored at 0.
 */
export function linearWarmupDecay(o: LinearWarmupDecayOptions): (step: number) => number {
  if (!(o.warmupSteps >= 0 && o.totalSteps >= o.warmupSteps && o.peakLr >= 0)) {
    throw new TensorError(`linearWarmupDecay: need 0 <= warmupSteps <= totalSteps and peakLr >= 0, got ${JSON.stringify(o)}`);
  }
  return (step: number): number => {
    if (step < o.warmupSteps) return (o.peakLr * step) / Math.max(1, o.warmupSteps);
    return o.peakLr * Math.max(0, (o.totalSteps - step) / Math.max(1, o.totalSteps - o.warmupSteps));
  };
}

/**
 * Scales all gradients in place so their global L2 norm is at most maxNorm (torch clip_grad_norm_: factor
 * maxNorm / (norm + 1e-6) when norm > maxNorm). Returns the norm before clipping. Parameters without grad are skipped.
 */
export function clipGradNorm(params: ParamSource, maxNorm: number): number {
  const list = namedParams(params).map(([, p]) => p);
  let sq = 0;
  for (const p of list) {
    if (!p.grad) continue;
    const g = p.grad.data;
    for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
  }
  const norm = Math.sqrt(sq);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) {
    for (const p of list) {
      if (!p.grad) continue;
      const g = p.grad.data;
      for (let i = 0; i < g.length; i++) g[i] *= coef;
    }
  }
  return norm;
}
