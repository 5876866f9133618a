/**
 * Softmax cross-entropy whose forward and backward both run on backend row kernels (log-softmax forward; softmax
 * for the gradient) instead of a JS exp loop over the [N, C] logits — the MLM loss over the vocabulary (BERT §3.1,
 * REALM §3.2), where C is the vocabulary size. Same semantics as `crossEntropy` with reduction 'mean'.
 */
import { record } from '../autograd.js';
import { getBackend } from '../backends/index.js';
import { allocUninit, release } from '../pool.js';
import { Tensor, TensorError } from './util.js';

/** logits [N, C], targets [N] (class ids or ignoreIndex) → mean loss over non-ignored rows (0 if none), scalar. */
export function fusedCrossEntropy(logits: Tensor, targets: Int32Array, ignoreIndex = -100): Tensor {
  if (logits.ndim !== 2) throw new TensorError(`fusedCrossEntropy: logits must be [N, C], got [${logits.shape.join(', ')}]`);
  const [N, C] = logits.shape;
  if (targets.length !== N) throw new TensorError(`fusedCrossEntropy: ${targets.length} targets for logits [${N}, ${C}]`);
  let count = 0;
  for (let i = 0; i < N; i++) {
    const t = targets[i];
    if (t === ignoreIndex) continue;
    if (!(Number.isInteger(t) && t >= 0 && t < C)) throw new TensorError(`fusedCrossEntropy: target ${t} at row ${i} out of range [0, ${C})`);
    count++;
  }
  const be = getBackend();
  const lsm = allocUninit(N * C);
  be.logSoftmaxRows(logits.data, lsm, N, C);
  let total = 0;
  for (let i = 0; i < N; i++) if (targets[i] !== ignoreIndex) total -= lsm[i * C + targets[i]];
  release(lsm);
  const denom = Math.max(count, 1);
  const tg = targets.slice();
  return record(new Tensor(Float32Array.of(total / denom), []), [logits], 'fusedCrossEntropy', (g) => {
    const r = allocUninit(N * C);
    be.softmaxRows(logits.data, r, N, C);
    for (let i = 0; i < N; i++) {
      const o = i * C;
      if (tg[i] === ignoreIndex) r.fill(0, o, o + C);
      else r[o + tg[i]] -= 1;
    }
    be.axpby(g[0] / denom, r, 0, r, r, N * C); // r *= g / denom
    return [r];
  });
}
