/**
 * REALM's marginal likelihood over retrieved documents (Guu et al. 2020, §2.3 and §3.3):
 *   p(y|x) = Σ_z p(y|z,x) p(z|x),  p(z|x) = softmax_z f(x,z),  loss = −log p(y|x),
 * computed in log space with logsumexp over the k+1 candidates (null document included). Two forms:
 * - 'span' (the paper's equations, default): log p(y|z,x) = Σ_j log p(y_j|z,x) and the mixture is over whole spans;
 * - 'token' (HF RealmKnowledgeAugEncoder and the original TF code): each masked token is marginalised separately,
 *   Σ_j log Σ_z p(z|x) p(y_j|z,x), and the batch loss is the mean over masked tokens.
 *
 * The retriever's learning signal (§3.3): ∂ log p(y|x) / ∂ f(x,z) = r(z) = p(z|x) (p(y|z,x) / p(y|x) − 1), so the
 * loss gradient w.r.t. a score is −r(z). `rewards` computes r(z) analytically (in float64) for the diagnostics and
 * the test that checks it against autograd and finite differences.
 */
import { Tensor, add, logSoftmax, logsumexp, neg, reshape, scale, sum, unsqueeze } from '../engine/index.js';

/** How p(y|x) is marginalised: whole span (paper) or per masked token (HF / TF code). */
export type MarginalMode = 'span' | 'token';

/** One example's marginal likelihood terms. */
export interface MarginalTerms {
  /** Negative log-likelihood to add to the batch loss (span: −log p(y|x); token: −Σ_j log p(y_j|x)) — scalar. */
  nll: Tensor;
  /** What `nll` counts (1 for a span, M for tokens): the batch loss divides the summed nll by the summed counts. */
  count: number;
  /** log p(z|x) [C]. */
  logPz: Tensor;
  /** log p(y|z,x) = Σ_j log p(y_j|z,x) [C]. */
  logPyGivenZ: Tensor;
}

/**
 * Marginal terms of one example from relevance scores [C] (null document included when used) and the per-token
 * log-likelihoods log p(y_j|z,x) [C, M].
 */
export function marginalTerms(scores: Tensor, tokenLogp: Tensor, mode: MarginalMode = 'span'): MarginalTerms {
  if (scores.ndim !== 1) throw new RangeError(`marginalTerms: scores must be [C], got [${scores.shape.join(', ')}]`);
  if (tokenLogp.ndim !== 2 || tokenLogp.shape[0] !== scores.shape[0]) {
    throw new RangeError(`marginalTerms: token log-probs must be [${scores.shape[0]}, M], got [${tokenLogp.shape.join(', ')}]`);
  }
  const M = tokenLogp.shape[1];
  if (M < 1) throw new RangeError('marginalTerms: no masked token');
  const logPz = logSoftmax(scores, 0); // [C]
  const logPyGivenZ = sum(tokenLogp, 1); // [C]
  if (mode === 'span') {
    return { nll: neg(logsumexp(add(logPz, logPyGivenZ), 0)), count: 1, logPz, logPyGivenZ };
  }
  if (mode === 'token') {
    const joint = add(unsqueeze(logPz, 1), tokenLogp); // [C, M]
    return { nll: neg(sum(logsumexp(joint, 0))), count: M, logPz, logPyGivenZ };
  }
  throw new RangeError(`marginalTerms: unknown mode "${String(mode)}"`);
}

/**
 * Span-marginal terms from relevance scores [C] and whole-span log-likelihoods log p(y|z,x) [C] — for a reader that
 * defines p(y|z,x) per span only (the span copy head, ./spanCopyHead.ts); the same loss as `marginalTerms(.., 'span')`.
 */
export function spanMarginalTerms(scores: Tensor, logPyGivenZ: Tensor): MarginalTerms {
  if (scores.ndim !== 1 || logPyGivenZ.ndim !== 1 || logPyGivenZ.shape[0] !== scores.shape[0]) {
    throw new RangeError(`spanMarginalTerms: scores [C] and span log-probs [C] expected, got [${scores.shape.join(', ')}] and [${logPyGivenZ.shape.join(', ')}]`);
  }
  const logPz = logSoftmax(scores, 0); // [C]
  return { nll: neg(logsumexp(add(logPz, logPyGivenZ), 0)), count: 1, logPz, logPyGivenZ };
}

/** Batch loss: Σ nll / Σ count (span: mean over examples; token: mean over masked tokens). */
export function batchLoss(terms: readonly MarginalTerms[]): Tensor {
  if (terms.length === 0) throw new RangeError('batchLoss: no examples');
  let total = terms[0].nll;
  let count = terms[0].count;
  for (let i = 1; i < terms.length; i++) {
    total = add(total, terms[i].nll);
    count += terms[i].count;
  }
  return reshape(scale(total, 1 / count), []);
}

/** log Σ exp(v) in float64. */
export function logSumExp64(v: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < v.length; i++) m = Math.max(m, v[i]);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += Math.exp(v[i] - m);
  return m + Math.log(s);
}

/** Analytic quantities of one example from p(z|x) (as logs) and log p(y|z,x), in float64. */
export interface RewardStats {
  /** p(z|x) [C]. */
  pz: number[];
  /** log p(y|x) = log Σ_z p(z|x) p(y|z,x). */
  logPy: number;
  /** r(z) = p(z|x) (p(y|z,x)/p(y|x) − 1) [C] = ∂ log p(y|x) / ∂ f(x,z) (span form). */
  reward: number[];
}

/** r(z) and p(y|x) from log p(z|x) [C] and log p(y|z,x) [C]. */
export function rewards(logPz: ArrayLike<number>, logPyGivenZ: ArrayLike<number>): RewardStats {
  const C = logPz.length;
  if (logPyGivenZ.length !== C) throw new RangeError(`rewards: ${C} log p(z|x) but ${logPyGivenZ.length} log p(y|z,x)`);
  const joint = Array.from({ length: C }, (_, i) => logPz[i] + logPyGivenZ[i]);
  const logPy = logSumExp64(joint);
  const pz = Array.from({ length: C }, (_, i) => Math.exp(logPz[i]));
  const reward = pz.map((p, i) => p * (Math.exp(logPyGivenZ[i] - logPy) - 1));
  return { pz, logPy, reward };
}
