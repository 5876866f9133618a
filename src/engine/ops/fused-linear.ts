/**
 * Fused dense layer: y = act(x · Wᵀ + b) in one op (BERT's intermediate dense + GELU, and every plain dense layer).
 * Forward is one sgemm, the backend row-bias add and the backend GELU (no separate autograd ops);
 * backward applies the backend GELU derivative, computes dx and dW with sgemm and the bias gradient as column sums.
 */
import { record } from '../autograd.js';
import { getBackend } from '../backends/index.js';
import { allocUninit, release } from '../pool.js';
import { Tensor, TensorError } from './util.js';

/** Activation applied after the affine map ('gelu' = erf form, 'gelu_new' = tanh approximation). */
export type FusedActivation = 'none' | 'gelu' | 'gelu_new';

/** x [..., in], weight [out, in] (PyTorch layout), bias [out] or null → [..., out]. */
export function fusedLinear(x: Tensor, weight: Tensor, bias: Tensor | null, act: FusedActivation = 'none'): Tensor {
  if (weight.ndim !== 2) throw new TensorError(`fusedLinear: weight must be 2-D [out, in], got [${weight.shape.join(', ')}]`);
  const [nOut, nIn] = weight.shape;
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== nIn) {
    throw new TensorError(`fusedLinear: x [${x.shape.join(', ')}] last dim must equal weight in-features ${nIn}`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== nOut)) throw new TensorError(`fusedLinear: bias must be [${nOut}], got [${bias.shape.join(', ')}]`);
  if (act !== 'none' && act !== 'gelu' && act !== 'gelu_new') throw new TensorError(`fusedLinear: unknown activation ${String(act)}`);
  const rows = x.size / nIn;
  const be = getBackend();
  const pre = allocUninit(rows * nOut); // fully written by the beta = 0 sgemm
  if (rows > 0) {
    be.sgemm(false, true, rows, nOut, nIn, 1, x.data, nIn, weight.data, nIn, 0, pre, nOut);
    if (bias) be.addRowBias(pre, bias.data, rows, nOut);
  }
  const tanhApprox = act === 'gelu_new';
  let y = pre;
  if (act !== 'none') {
    y = allocUninit(pre.length);
    be.gelu(pre, y, pre.length, tanhApprox);
  }
  const out = new Tensor(y, [...x.shape.slice(0, -1), nOut]);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(out, inputs, `fusedLinear(${act})`, (g) => {
    let d = g;
    if (act !== 'none') {
      d = allocUninit(g.length);
      be.geluBackward(pre, g, d, g.length, tanhApprox);
    }
    let gx: Float32Array | null = null;
    let gw: Float32Array | null = null;
    let gb: Float32Array | null = null;
    if (x.requiresGrad) {
      gx = allocUninit(x.size);
      be.sgemm(false, false, rows, nIn, nOut, 1, d, nOut, weight.data, nIn, 0, gx, nIn); // dx = d · W
    }
    if (weight.requiresGrad) {
      gw = allocUninit(weight.size);
      be.sgemm(true, false, nOut, nIn, rows, 1, d, nOut, x.data, nIn, 0, gw, nIn); // dW = dᵀ · x
    }
    if (bias && bias.requiresGrad) {
      // db = column sums of d (backend colSums; a 1-row sgemm would pack all of d).
      gb = new Float32Array(nOut);
      be.colSums(d, rows, nOut, gb);
    }
    if (d !== g) release(d);
    return bias ? [gx, gw, gb] : [gx, gw];
  }, act !== 'none' ? () => release(pre) : undefined);
}
