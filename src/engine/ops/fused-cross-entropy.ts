/**
 * Softmax cross-entropy on one backend row kernel (softmaxCrossEntropy: the loss and, when a graph is recorded, the
 * gradient in the same pass) instead of a JS exp loop over the [N, C] logits — the MLM loss over the vocabulary (BERT §3.1,
 * REALM §3.2), where C is the vocabulary size. Same semantics as `crossEntropy` with reduction 'mean'.
 */
import { isGradEnabled, record } from '../autograd.js';
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
  const denom = Math.max(count, 1);
  const tg = targets.slice();
  // With a graph to record, the gradient for an upstream gradient of 1 is computed in the same pass as the loss and
  // kept for backward (one pass over the [N, C] logits instead of log-softmax, softmax and a scaling pass).
  let grad: Float32Array | null = isGradEnabled() && logits.requiresGrad ? allocUninit(N * C) : null;
  const losses = new Float32Array(N);
  be.softmaxCrossEntropy(logits.data, tg, N, C, ignoreIndex, 1 / denom, grad, losses);
  let total = 0;
  for (let i = 0; i < N; i++) total += losses[i];
  return record(new Tensor(Float32Array.of(total / denom), []), [logits], 'fusedCrossEntropy', (g) => {
    let r = grad;
    grad = null; // handed to the engine; a second backward (retainGraph) recomputes
    if (r === null) {
      r = allocUninit(N * C);
      be.softmaxCrossEntropy(logits.data, tg, N, C, ignoreIndex, g[0] / denom, r, new Float32Array(N));
    } else if (g[0] !== 1) {
      be.axpby(g[0], r, 0, r, r, N * C); // r *= g
    }
    return [r];
  }, () => {
    if (grad) release(grad);
    grad = null;
  });
}
