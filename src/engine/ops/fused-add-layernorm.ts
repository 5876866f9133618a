/**
 * Fused residual add + LayerNorm: y = LayerNorm(a + b) over the last axis, gamma/beta [H] — BERT's post-LN
 * sub-layer output `LayerNorm(h + dropout(dense(x)))` (Devlin et al. 2019; every REALM encoder, REALM §3).
 * The sum goes through the backend `axpby` kernel into a pooled buffer (kept for the backward statistics) instead of
 * a separate autograd add node; backward runs the LayerNorm backward once and hands the same gradient to a and b.
 */
import { record } from '../autograd.js';
import { getBackend } from '../backends/index.js';
import { allocUninit, release } from '../pool.js';
import { Tensor, TensorError } from './util.js';

/** a, b [..., H] (same shape), gamma, beta [H] → LayerNorm(a + b) [..., H]. */
export function addLayerNorm(a: Tensor, b: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-12): Tensor {
  const H = a.shape[a.ndim - 1];
  if (a.ndim < 1 || a.size !== b.size || a.shape.some((d, i) => d !== b.shape[i]) || a.ndim !== b.ndim) {
    throw new TensorError(`addLayerNorm: a [${a.shape.join(', ')}] and b [${b.shape.join(', ')}] must have the same shape`);
  }
  if (gamma.size !== H || beta.size !== H) {
    throw new TensorError(`addLayerNorm: gamma/beta must have size ${H}, got [${gamma.shape.join(', ')}] / [${beta.shape.join(', ')}]`);
  }
  const be = getBackend();
  const n = a.size;
  const rows = H === 0 ? 0 : n / H;
  const s = allocUninit(n); // a + b, saved for backward
  be.axpby(1, a.data, 1, b.data, s, n);
  const y = allocUninit(n);
  const mu = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  be.layerNormForward(s, gamma.data, beta.data, y, mu, rstd, rows, H, eps);
  return record(new Tensor(y, a.shape), [a, b, gamma, beta], 'addLayerNorm', (g) => {
    const dx = allocUninit(n);
    const dg = new Float32Array(H);
    const db = new Float32Array(H);
    be.layerNormBackward(g, s, gamma.data, mu, rstd, dx, dg, db, rows, H);
    // The same array for a and b: autograd sees the duplicate and copies before accumulating in place.
    return [a.requiresGrad ? dx : null, b.requiresGrad ? dx : null, gamma.requiresGrad ? dg : null, beta.requiresGrad ? db : null];
  }, () => release(s));
}
