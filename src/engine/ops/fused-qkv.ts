/**
 * The attention input projections q, k, v = x·Wqᵀ + bq, x·Wkᵀ + bk, x·Wvᵀ + bv as ONE [H → 3H] GEMM (BERT's
 * self-attention, REALM §3): the three weights stay separate parameters (HF names `attention.self.{query,key,value}`)
 * and are copied side by side into a [3H, in] buffer per call, so the output is [rows, 3H] = [q | k | v] per row —
 * the layout `fusedSelfAttentionPacked` reads. Backward: dx = d·Wcat is one GEMM with K = 3H (instead of three GEMMs
 * and two adds), dWcat = dᵀ·x one GEMM split into the three weight gradients, bias gradients one column-sum pass.
 */
import { record } from '../autograd.js';
import { getBackend } from '../backends/index.js';
import { allocUninit, release } from '../pool.js';
import { Tensor, TensorError } from './util.js';

/** x [..., in], weights 3 x [H, in] (PyTorch layout), biases 3 x [H] or null → [..., 3H]. */
export function fusedQkvLinear(x: Tensor, weights: readonly [Tensor, Tensor, Tensor], biases: readonly [Tensor, Tensor, Tensor] | null): Tensor {
  const [H, nIn] = weights[0].shape;
  for (const w of weights) {
    if (w.ndim !== 2 || w.shape[0] !== H || w.shape[1] !== nIn) throw new TensorError(`fusedQkvLinear: weights must all be [${H}, ${nIn}], got [${w.shape.join(', ')}]`);
  }
  if (biases) for (const b of biases) if (b.ndim !== 1 || b.shape[0] !== H) throw new TensorError(`fusedQkvLinear: biases must be [${H}], got [${b.shape.join(', ')}]`);
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== nIn) throw new TensorError(`fusedQkvLinear: x [${x.shape.join(', ')}] last dim must equal weight in-features ${nIn}`);
  const rows = x.size / nIn;
  const H3 = 3 * H;
  const be = getBackend();
  const w = allocUninit(H3 * nIn); // [3H, in]: Wq rows, then Wk, then Wv
  weights.forEach((t, i) => w.set(t.data, i * H * nIn));
  const y = allocUninit(rows * H3); // fully written by the beta = 0 sgemm
  if (rows > 0) {
    let b: Float32Array | null = null;
    if (biases) {
      b = new Float32Array(H3);
      biases.forEach((t, i) => b!.set(t.data, i * H));
    }
    be.linearForward(x.data, w, b, y, null, rows, nIn, H3, 0); // y = x · Wᵀ + b (bias added block by block, in cache)
  }
  const out = new Tensor(y, [...x.shape.slice(0, -1), H3]);
  const inputs = biases ? [x, ...weights, ...biases] : [x, ...weights];
  return record(out, inputs, 'fusedQkvLinear', (d) => {
    let gx: Float32Array | null = null;
    if (x.requiresGrad) {
      gx = allocUninit(x.size);
      be.sgemm(false, false, rows, nIn, H3, 1, d, H3, w, nIn, 0, gx, nIn); // dx = d · Wcat
    }
    const gws: Array<Float32Array | null> = [null, null, null];
    if (weights.some((t) => t.requiresGrad)) {
      const gw = allocUninit(H3 * nIn);
      be.sgemm(true, false, H3, nIn, rows, 1, d, H3, x.data, nIn, 0, gw, nIn); // dWcat = dᵀ · x
      weights.forEach((t, i) => {
        if (!t.requiresGrad) return;
        const gi = allocUninit(H * nIn); // pooled: a fresh slice() would page-fault every step
        gi.set(gw.subarray(i * H * nIn, (i + 1) * H * nIn));
        gws[i] = gi;
      });
      release(gw);
    }
    if (!biases) return [gx, ...gws];
    const gbs: Array<Float32Array | null> = [null, null, null];
    if (biases.some((t) => t.requiresGrad)) {
      const gb = new Float32Array(H3);
      be.colSums(d, rows, H3, gb);
      biases.forEach((t, i) => {
        if (t.requiresGrad) gbs[i] = gb.slice(i * H, (i + 1) * H);
      });
    }
    return [gx, ...gws, ...gbs];
  }, () => release(w));
}
