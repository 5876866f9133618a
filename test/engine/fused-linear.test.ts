/**
 * fusedLinear and fusedCrossEntropy: values and gradients against float64 hand formulas / central finite differences
 * and against the unfused engine ops (linear + gelu, crossEntropy), on every available backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, availableBackends, backward, crossEntropy, gelu, linear, mul, noGrad, scale, setBackend, sum } from '../../src/engine/index.js';
import { fusedLinear, type FusedActivation } from '../../src/engine/ops/fused-linear.js';
import { fusedCrossEntropy } from '../../src/engine/ops/fused-cross-entropy.js';

function leaf(shape: number[], rng: Rng, std = 1): Tensor {
  const t = Tensor.randn(shape, rng, std);
  t.requiresGrad = true;
  return t;
}

function fdCheck(f: () => Tensor, params: Tensor[], tol = 3e-3): void {
  backward(f());
  for (const p of params) {
    assert.ok(p.grad);
    for (let i = 0; i < p.size; i++) {
      const old = p.data[i];
      const h = 1e-2;
      p.data[i] = old + h;
      const lp = noGrad(f).item();
      p.data[i] = old - h;
      const lm = noGrad(f).item();
      p.data[i] = old;
      const fd = (lp - lm) / (2 * h);
      assert.ok(Math.abs(fd - p.grad.data[i]) <= tol + 1e-2 * Math.abs(fd), `grad[${i}] ${p.grad.data[i]} vs fd ${fd}`);
    }
  }
}

for (const be of availableBackends()) {
  for (const act of ['none', 'gelu', 'gelu_new'] as FusedActivation[]) {
    test(`fusedLinear(${act}) matches float64 values, the unfused ops and finite differences (${be.name})`, () => {
      setBackend(be);
      const rng = new Rng(1);
      const x = leaf([2, 3, 5], rng);
      const w = leaf([4, 5], rng, 0.5);
      const b = leaf([4], rng);
      const y = noGrad(() => fusedLinear(x, w, b, act));
      assert.deepEqual(y.shape, [2, 3, 4]);
      for (let r = 0; r < 6; r++) {
        for (let j = 0; j < 4; j++) {
          let s = b.data[j];
          for (let k = 0; k < 5; k++) s += x.data[r * 5 + k] * w.data[j * 5 + k];
          const erf = (z: number): number => { // Abramowitz-Stegun 7.1.26 (|err| < 1.5e-7)
            const t = 1 / (1 + 0.3275911 * Math.abs(z));
            const e = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
            return z < 0 ? -e : e;
          };
          const want = act === 'none' ? s : act === 'gelu' ? 0.5 * s * (1 + erf(s / Math.SQRT2))
            : 0.5 * s * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (s + 0.044715 * s ** 3)));
          assert.ok(Math.abs(y.data[r * 4 + j] - want) < 1e-5, `y[${r},${j}] ${y.data[r * 4 + j]} vs ${want}`);
        }
      }
      const un = noGrad(() => (act === 'none' ? linear(x, w, b) : gelu(linear(x, w, b), act === 'gelu' ? 'none' : 'tanh')));
      for (let i = 0; i < y.size; i++) assert.ok(Math.abs(y.data[i] - un.data[i]) < 1e-6);
      const c = Tensor.randn([2, 3, 4], rng);
      fdCheck(() => sum(mul(fusedLinear(x, w, b, act), c)), [x, w, b]);
      const noBias = noGrad(() => fusedLinear(x, w, null, act));
      assert.deepEqual(noBias.shape, [2, 3, 4]);
    });
  }

  test(`fusedCrossEntropy matches crossEntropy (values, gradients, ignoreIndex) and finite differences (${be.name})`, () => {
    setBackend(be);
    const rng = new Rng(2);
    const logits = leaf([5, 7], rng, 2);
    const targets = Int32Array.from([3, -100, 0, 6, 2]);
    const a = fusedCrossEntropy(logits, targets);
    let want = 0;
    for (const i of [0, 2, 3, 4]) {
      const row = Array.from(logits.data.subarray(i * 7, i * 7 + 7));
      const mx = Math.max(...row);
      want += mx + Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0)) - row[targets[i]];
    }
    assert.ok(Math.abs(a.item() - want / 4) < 1e-5);
    backward(a);
    const g1 = logits.grad!.data.slice();
    logits.grad = null;
    backward(crossEntropy(logits, targets, { ignoreIndex: -100 }));
    for (let i = 0; i < g1.length; i++) assert.ok(Math.abs(g1[i] - logits.grad!.data[i]) < 1e-6);
    for (let j = 0; j < 7; j++) assert.equal(g1[7 + j], 0);
    logits.grad = null;
    fdCheck(() => fusedCrossEntropy(logits, targets), [logits]);
    assert.throws(() => fusedCrossEntropy(logits, Int32Array.from([1, 2, 3, 7, 0])), /target 7 at row 3/);
  });
  test(`fusedCrossEntropy at vocabulary size: upstream gradient, retainGraph, -inf logits, all rows ignored (${be.name})`, () => {
    setBackend(be);
    const rng = new Rng(3);
    const [N, C] = [141, 8000]; // the benchmark's MLM logits (rows split over threads natively)
    const logits = leaf([N, C], rng, 3);
    logits.data.fill(-Infinity, 5 * C, 5 * C + C / 2); // half a row masked out
    const targets = Int32Array.from({ length: N }, (_, i) => (i % 3 === 1 ? -100 : (i * 7919) % C));
    targets[5] = C - 1; // a live logit in the masked row
    let want = 0;
    let count = 0;
    const gradRef = new Float64Array(N * C);
    for (let i = 0; i < N; i++) {
      if (targets[i] === -100) continue;
      count++;
      const row = logits.data.subarray(i * C, (i + 1) * C);
      let mx = -Infinity;
      for (const v of row) mx = Math.max(mx, v);
      let s = 0;
      for (const v of row) s += Math.exp(v - mx);
      want += mx + Math.log(s) - row[targets[i]];
      for (let j = 0; j < C; j++) gradRef[i * C + j] = Math.exp(row[j] - mx) / s - (j === targets[i] ? 1 : 0);
    }
    const loss = fusedCrossEntropy(logits, targets);
    assert.ok(Math.abs(loss.item() - want / count) < 1e-4 * (want / count), `loss ${loss.item()} vs ${want / count}`);
    backward(scale(loss, 3), undefined, { retainGraph: true }); // upstream gradient 3
    const g = logits.grad!.data;
    for (let i = 0; i < g.length; i++) {
      const e = (3 * gradRef[i]) / count;
      if (!(Math.abs(g[i] - e) <= 1e-7 + 1e-4 * Math.abs(e))) assert.fail(`grad[${i}] ${g[i]} vs ${e}`);
    }
    const first = g.slice();
    backward(scale(loss, 3)); // second pass through the retained graph: the gradient is recomputed, not reused
    const g2 = logits.grad!.data;
    for (let i = 0; i < g2.length; i++) if (!(Math.abs(g2[i] - 2 * first[i]) <= 1e-7 + 1e-5 * Math.abs(first[i]))) assert.fail(`2nd pass grad[${i}]`);
    logits.grad = null;
    const none = fusedCrossEntropy(logits, new Int32Array(N).fill(-100));
    assert.equal(none.item(), 0);
    backward(none);
    assert.ok(logits.grad!.data.every((v) => v === 0));
    logits.grad = null;
    const bad = Int32Array.from({ length: N }, () => 0);
    bad[7] = C;
    assert.throws(() => be.softmaxCrossEntropy(logits.data, bad, N, C, -100, 1, null, new Float32Array(N)), /target 8000 at row 7 out of range/);
  });
}
