/**
 * fusedLinear and fusedCrossEntropy: values and gradients against float64 hand formulas / central finite differences
 * and against the unfused engine ops (linear + gelu, crossEntropy), on every available backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, availableBackends, backward, crossEntropy, gelu, linear, mul, noGrad, setBackend, sum } from '../../src/engine/index.js';
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
}
