/**
 * Fused dense layer: y = act(x · Wᵀ + b) in one op (BERT's intermediate dense + GELU, and every plain dense layer).
 * Forward is one backend linearForward (the GEMM with bias and GELU applied to each finished block while it is in
 * cache; no separate autograd ops); backward applies the GELU derivative and sums the bias gradient in one pass
 * (geluBackwardColSums), then computes dx and dW with sgemm.
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
  const tanhApprox = act === 'gelu_new';
  const pre = allocUninit(rows * nOut); // fully written by the beta = 0 product
  const y = act === 'none' ? pre : allocUninit(pre.length);
  if (rows > 0) be.linearForward(x.data, weight.data, bias ? bias.data : null, pre, act === 'none' ? null : y, rows, nIn, nOut, act === 'none' ? 0 : tanhApprox ? 2 : 1);
  const out = new Tensor(y, [...x.shape.slice(0, -1), nOut]);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(out, inputs, `fusedLinear(${act})`, (g) => {
    // d = g * GELU'(pre), and the bias gradient (its column sums) in the same pass.
    let d = g;
    const gb: Float32Array | null = bias && bias.requiresGrad ? new Float32Array(nOut) : null;
    if (act !== 'none') {
      d = allocUninit(g.length);
      be.geluBackwardColSums(pre, g, d, rows, nOut, tanhApprox, gb);
    } else if (gb) {
      be.colSums(d, rows, nOut, gb); // db = column sums of d (a 1-row sgemm would pack all of d)
    }
    let gx: Float32Array | null = null;
    let gw: Float32Array | null = null;
    if (x.requiresGrad) {
      gx = allocUninit(x.size);
      be.sgemm(false, false, rows, nIn, nOut, 1, d, nOut, weight.data, nIn, 0, gx, nIn); // dx = d · W
    }
    if (weight.requiresGrad) {
      gw = allocUninit(weight.size);
      be.sgemm(true, false, nOut, nIn, rows, 1, d, nOut, x.data, nIn, 0, gw, nIn); // dW = dᵀ · x
    }
    if (d !== g) release(d);
    return bias ? [gx, gw, gb] : [gx, gw];
  }, act !== 'none' ? () => release(pre) : undefined);
}
