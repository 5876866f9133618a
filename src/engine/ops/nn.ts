/**
 * Neural-network ops with autograd: layerNorm (backend kernels), inverted dropout, the additive attention-mask
 * helper, fused cross-entropy (log-softmax + NLL with ignore_index, the MLM loss of BERT/REALM §3.2), gatherLast
 * (pick one column per row, e.g. log p(target)) and topk (no gradient; used to choose retrieved documents).
 */
import { alloc, allocUninit, release } from '../pool.js';
import { record } from '../autograd.js';
import { getBackend } from '../backends/index.js';
import type { Rng } from '../rng.js';
import { Tensor, TensorError, shapeSize, expectNdim } from './util.js';

function fmt(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

/** LayerNorm over the last axis: (x - mean) / sqrt(var + eps) * gamma + beta; gamma, beta [H]. BERT uses eps = 1e-12. */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-12): Tensor {
  const H = x.shape[x.ndim - 1];
  if (x.ndim < 1 || gamma.size !== H || beta.size !== H) {
    throw new TensorError(`layerNorm: x ${fmt(x.shape)} needs gamma/beta of size ${H}, got ${fmt(gamma.shape)} / ${fmt(beta.shape)}`);
  }
  const be = getBackend();
  const rows = H === 0 ? 0 : x.size / H;
  const y = allocUninit(x.size);
  const mu = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  be.layerNormForward(x.data, gamma.data, beta.data, y, mu, rstd, rows, H, eps);
  return record(new Tensor(y, x.shape), [x, gamma, beta], 'layerNorm', (g) => {
    const dx = allocUninit(x.size);
    const dg = new Float32Array(H);
    const db = new Float32Array(H);
    be.layerNormBackward(g, x.data, gamma.data, mu, rstd, dx, dg, db, rows, H);
    return [x.requiresGrad ? dx : null, gamma.requiresGrad ? dg : null, beta.requiresGrad ? db : null];
  });
}

/**
 * Inverted dropout: zero each element with probability p and scale survivors by 1/(1-p); identity if !training or p = 0.
 * The mask is counter-based (backend `dropoutApply`: a hash of two seeds drawn from `rng` and the element index), so
 * no mask buffer is stored: backward re-applies the same seeds to the gradient.
 */
export function dropout(x: Tensor, p: number, rng: Rng, training: boolean): Tensor {
  if (!(p >= 0 && p < 1)) throw new TensorError(`dropout: p must be in [0, 1), got ${p}`);
  if (!training || p === 0) return x;
  const n = x.size;
  const be = getBackend();
  const seed0 = rng.nextUint32();
  const seed1 = rng.nextUint32();
  const y = allocUninit(n);
  be.dropoutApply(x.data, y, n, p, seed0, seed1);
  return record(new Tensor(y, x.shape), [x], 'dropout', (g) => {
    const r = allocUninit(n);
    be.dropoutApply(g, r, n, p, seed0, seed1);
    return [r];
  });
}

/**
 * The additive attention mask. `keep` [B, S] holds 1 for real tokens and 0 for padding (BERT's attention_mask);
 * the result [B, 1, 1, S] is 0 where kept and `negValue` (default -10000, as BERT) where padded, with no gradient.
 * Usage: scores [B, heads, S, S] = add(scale(matmul(q, k, { transB: true }), 1 / sqrt(d)), attentionMaskBias(...)),
 * then softmax over the last axis, so padded keys get ~0 probability.
 */
export function attentionMaskBias(keep: ArrayLike<number>, batch: number, seqLen: number, negValue = -10000): Tensor {
  if (keep.length !== batch * seqLen) {
    throw new TensorError(`attentionMaskBias: mask has ${keep.length} entries, expected batch*seqLen = ${batch * seqLen}`);
  }
  const d = new Float32Array(batch * seqLen);
  for (let i = 0; i < d.length; i++) d[i] = keep[i] ? 0 : negValue;
  return new Tensor(d, [batch, 1, 1, seqLen]);
}

/** Options of `crossEntropy`. */
export interface CrossEntropyOptions {
  /** Target value to skip (contributes 0 loss and 0 gradient; excluded from the mean). Default -100. */
  ignoreIndex?: number;
  /** 'mean' over non-ignored targets (default), 'sum', or 'none' (per-row losses [N]). */
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * Fused softmax cross-entropy: logits [N, C], targets [N] (class ids or ignoreIndex).
 * Returns a scalar (mean/sum) or [N] (none). The mean over zero non-ignored targets is 0 (not NaN).
 */
export function crossEntropy(logits: Tensor, targets: Int32Array, opts: CrossEntropyOptions = {}): Tensor {
  expectNdim(logits, 2, 'crossEntropy', 'logits');
  const [N, C] = logits.shape;
  const ignore = opts.ignoreIndex ?? -100;
  const reduction = opts.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new TensorError(`crossEntropy: unknown reduction ${String(reduction)}`);
  }
  if (targets.length !== N) throw new TensorError(`crossEntropy: ${targets.length} targets for logits ${fmt(logits.shape)}`);
  let count = 0;
  for (let i = 0; i < N; i++) {
    const t = targets[i];
    if (t === ignore) continue;
    if (t < 0 || t >= C) throw new TensorError(`crossEntropy: target ${t} at row ${i} out of range [0, ${C}) (ignoreIndex ${ignore})`);
    count++;
  }
  const be = getBackend();
  const lsm = allocUninit(N * C);
  be.logSoftmaxRows(logits.data, lsm, N, C);
  const losses = new Float32Array(N);
  let total = 0;
  for (let i = 0; i < N; i++) {
    if (targets[i] === ignore) continue;
    losses[i] = -lsm[i * C + targets[i]];
    total += losses[i];
  }
  const denom = reduction === 'mean' ? Math.max(count, 1) : 1;
  const out = reduction === 'none' ? new Tensor(losses, [N]) : new Tensor(Float32Array.of(total / denom), []);
  const tg = targets.slice();
  return record(out, [logits], 'crossEntropy', (g) => {
    const r = alloc(N * C);
    for (let i = 0; i < N; i++) {
      if (tg[i] === ignore) continue;
      const gi = reduction === 'none' ? g[i] : g[0] / denom;
      if (gi === 0) continue;
      const o = i * C;
      for (let j = 0; j < C; j++) r[o + j] = gi * Math.exp(lsm[o + j]);
      r[o + tg[i]] -= gi;
    }
    return [r];
  }, () => release(lsm));
}

/** out[i] = a[i, idx[i]] for a [N, C], idx [N]; backward scatters g into those positions. */
export function gatherLast(a: Tensor, idx: Int32Array): Tensor {
  expectNdim(a, 2, 'gatherLast', 'a');
  const [N, C] = a.shape;
  if (idx.length !== N) throw new TensorError(`gatherLast: ${idx.length} indices for a ${fmt(a.shape)}`);
  const out = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    const j = idx[i];
    if (j < 0 || j >= C) throw new TensorError(`gatherLast: index ${j} at row ${i} out of range [0, ${C})`);
    out[i] = a.data[i * C + j];
  }
  const ids = idx.slice();
  return record(new Tensor(out, [N]), [a], 'gatherLast', (g) => {
    const r = alloc(N * C);
    for (let i = 0; i < N; i++) r[i * C + ids[i]] = g[i];
    return [r];
  });
}

/**
 * Top-k along the last axis (largest first, ties by lower index): a [..., cols] -> values [..., k] (no gradient)
 * and indices Int32Array [prod(...) * k] (column numbers). Backend topk.
 */
export function topk(a: Tensor, k: number): { values: Tensor; indices: Int32Array } {
  if (a.ndim < 1) throw new TensorError('topk: needs at least a 1-d tensor');
  const cols = a.shape[a.ndim - 1];
  if (!Number.isInteger(k) || k < 1 || k > cols) throw new TensorError(`topk: k=${k} must be in [1, ${cols}] for ${fmt(a.shape)}`);
  const rows = a.size / cols;
  const vals = new Float32Array(rows * k);
  const indices = new Int32Array(rows * k);
  getBackend().topk(a.data, rows, cols, k, indices, vals);
  const shape = [...a.shape.slice(0, -1), k];
  if (shapeSize(shape) !== vals.length) throw new TensorError('topk: internal shape mismatch');
  return { values: new Tensor(vals, shape), indices };
}
