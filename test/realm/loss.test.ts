/**
 * The marginal likelihood and the retriever's reward (REALM §3.3): on random scores and per-token log-likelihoods,
 * the loss equals a float64 reference, and its gradient w.r.t. the k+1 relevance scores equals −r(z) with
 * r(z) = p(z|x)(p(y|z,x)/p(y|x) − 1) — checked against autograd and against central finite differences of the
 * float64 reference. The per-token (HF) variant is checked the same way against its own formula.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, backward } from '../../src/engine/index.js';
import { batchLoss, marginalTerms, rewards } from '../../src/realm/loss.js';

/** −log Σ_z softmax(s)_z Π_j p_zj in float64. */
function spanNll(s: number[], lp: number[][]): number {
  const m = Math.max(...s);
  const lse = m + Math.log(s.reduce((a, v) => a + Math.exp(v - m), 0));
  const joint = s.map((v, z) => v - lse + lp[z].reduce((a, b) => a + b, 0));
  const jm = Math.max(...joint);
  return -(jm + Math.log(joint.reduce((a, v) => a + Math.exp(v - jm), 0)));
}

/** −Σ_j log Σ_z softmax(s)_z p_zj in float64. */
function tokenNll(s: number[], lp: number[][]): number {
  const m = Math.max(...s);
  const lse = m + Math.log(s.reduce((a, v) => a + Math.exp(v - m), 0));
  let out = 0;
  for (let j = 0; j < lp[0].length; j++) out -= Math.log(s.reduce((a, v, z) => a + Math.exp(v - lse + lp[z][j]), 0));
  return out;
}

function randomCase(rng: Rng, C: number, M: number): { s: number[]; lp: number[][] } {
  const s = Array.from({ length: C }, () => rng.normal(0, 2));
  // log-probabilities of real size: log U(0.001, 1)
  const lp = Array.from({ length: C }, () => Array.from({ length: M }, () => Math.log(rng.uniform(0.001, 1))));
  return { s, lp };
}

function gradOfScores(s: number[], lp: number[][], mode: 'span' | 'token'): { loss: number; grad: number[]; terms: ReturnType<typeof marginalTerms> } {
  const scores = Tensor.param(Float32Array.from(s), [s.length]);
  const tokenLogp = Tensor.fromArray(lp.flat(), [lp.length, lp[0].length]);
  const terms = marginalTerms(scores, tokenLogp, mode);
  const loss = batchLoss([terms]);
  backward(loss);
  return { loss: loss.item(), grad: Array.from(scores.grad!.data), terms };
}

test('span loss: value, autograd gradient = −r(z) = finite differences (random cases, k+1 = 2..9, M = 1..4)', () => {
  const rng = new Rng(42);
  for (let trial = 0; trial < 30; trial++) {
    const C = 2 + (trial % 8);
    const M = 1 + (trial % 4);
    const { s, lp } = randomCase(rng, C, M);
    const { loss, grad, terms } = gradOfScores(s, lp, 'span');
    assert.ok(Math.abs(loss - spanNll(s, lp)) < 1e-4 * Math.max(1, Math.abs(loss)), `loss ${loss} vs ${spanNll(s, lp)}`);
    // analytic reward from the float64 formula on the exact inputs
    const m = Math.max(...s);
    const lse = m + Math.log(s.reduce((a, v) => a + Math.exp(v - m), 0));
    const r = rewards(s.map((v) => v - lse), lp.map((row) => row.reduce((a, b) => a + b, 0)));
    // and the same from the model's own (float32) log p(z|x), log p(y|z,x)
    const r32 = rewards(terms.logPz.data, terms.logPyGivenZ.data);
    const h = 1e-5;
    for (let z = 0; z < C; z++) {
      const sp = s.slice();
      const sm = s.slice();
      sp[z] += h;
      sm[z] -= h;
      const fd = (spanNll(sp, lp) - spanNll(sm, lp)) / (2 * h);
      assert.ok(Math.abs(fd + r.reward[z]) < 1e-6, `trial ${trial} z ${z}: FD ${fd} vs −r ${-r.reward[z]}`);
      assert.ok(Math.abs(grad[z] + r.reward[z]) < 2e-5, `trial ${trial} z ${z}: autograd ${grad[z]} vs −r ${-r.reward[z]}`);
      assert.ok(Math.abs(r32.reward[z] - r.reward[z]) < 2e-5);
    }
    // the rewards sum to zero (Σ_z p(z|x) p(y|z,x)/p(y|x) = 1), and p(y|x) matches the loss
    assert.ok(Math.abs(r.reward.reduce((a, b) => a + b, 0)) < 1e-12);
    assert.ok(Math.abs(-r.logPy - spanNll(s, lp)) < 1e-9);
  }
});

test('reward sign: a candidate with p(y|z,x) above p(y|x) is pushed up, below it pushed down', () => {
  // hand-made: three equally likely candidates with p(y|z,x) = 0.9, 0.09, 0.009 → p(y|x) = 0.333
  const lpz = [Math.log(1 / 3), Math.log(1 / 3), Math.log(1 / 3)];
  const r = rewards(lpz, [Math.log(0.9), Math.log(0.09), Math.log(0.009)]);
  const py = (0.9 + 0.09 + 0.009) / 3;
  assert.ok(Math.abs(Math.exp(r.logPy) - py) < 1e-12);
  const want = [0.9, 0.09, 0.009].map((p) => (1 / 3) * (p / py - 1));
  r.reward.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-12));
  assert.ok(r.reward[0] > 0 && r.reward[1] < 0 && r.reward[2] < 0);
});

test('token (HF) loss: value and score gradient match the per-token formula and finite differences', () => {
  const rng = new Rng(7);
  for (let trial = 0; trial < 12; trial++) {
    const C = 2 + (trial % 5);
    const M = 1 + (trial % 3);
    const { s, lp } = randomCase(rng, C, M);
    const { loss, grad } = gradOfScores(s, lp, 'token');
    // batch loss of one example = −Σ_j log p(y_j|x) / M
    assert.ok(Math.abs(loss - tokenNll(s, lp) / M) < 1e-4 * Math.max(1, loss));
    const h = 1e-5;
    for (let z = 0; z < C; z++) {
      const sp = s.slice();
      const sm = s.slice();
      sp[z] += h;
      sm[z] -= h;
      const fd = (tokenNll(sp, lp) - tokenNll(sm, lp)) / (2 * h) / M;
      assert.ok(Math.abs(grad[z] - fd) < 2e-5, `trial ${trial} z ${z}: ${grad[z]} vs FD ${fd}`);
    }
    // with one masked token both forms coincide
    if (M === 1) assert.ok(Math.abs(tokenNll(s, lp) - spanNll(s, lp)) < 1e-12);
  }
});

test('batch loss: span = mean over examples, token = mean over masked tokens', () => {
  const rng = new Rng(9);
  const cases = [randomCase(rng, 3, 2), randomCase(rng, 4, 1), randomCase(rng, 2, 3)];
  const mk = (mode: 'span' | 'token') => batchLoss(cases.map(({ s, lp }) => marginalTerms(Tensor.fromArray(s), Tensor.fromArray(lp.flat(), [lp.length, lp[0].length]), mode))).item();
  const span = cases.reduce((a, { s, lp }) => a + spanNll(s, lp), 0) / 3;
  const token = cases.reduce((a, { s, lp }) => a + tokenNll(s, lp), 0) / 6;
  assert.ok(Math.abs(mk('span') - span) < 1e-4);
  assert.ok(Math.abs(mk('token') - token) < 1e-4);
});
