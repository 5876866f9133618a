/**
 * Backend parity: the whole op suite (forward values and all input gradients) on every available backend, compared
 * with the JS reference backend at relative tolerance 1e-4. With only the JS backend available this still runs the
 * suite end to end; once the native addon loads it checks native against JS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Rng, Tensor, availableBackends, setBackend, jsBackend, backward, linear, layerNorm, crossEntropy, type Backend,
} from '../../src/engine/index.js';
import { opCases } from './op-cases.js';

interface Run {
  out: Float32Array;
  grads: Array<Float32Array | null>;
}

function runCase(be: Backend, inputs: () => Tensor[], fn: (x: Tensor[]) => Tensor): Run {
  setBackend(be);
  try {
    const xs = inputs();
    const out = fn(xs);
    const w = new Rng(77).fillUniform(new Float32Array(out.size), -1, 1);
    backward(out, w);
    return { out: out.data.slice(), grads: xs.map((x) => (x.grad ? x.grad.data.slice() : null)) };
  } finally {
    setBackend(jsBackend);
  }
}

function assertParity(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, what);
  let scale = 0;
  for (const x of b) scale = Math.max(scale, Math.abs(x));
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= 1e-4 * Math.abs(b[i]) + 1e-6 * Math.max(1, scale))) {
      assert.fail(`${what}[${i}]: ${a[i]} vs js ${b[i]}`);
    }
  }
}

const backends = availableBackends();
test(`parity: backends available = ${backends.map((b) => b.name).join(', ')}`, () => {
  assert.ok(backends.some((b) => b.name === 'js'));
});

for (const c of opCases()) {
  test(`parity: ${c.name}`, () => {
    const ref = runCase(jsBackend, () => c.inputs(new Rng(5)), c.fn);
    for (const be of backends) {
      const r = runCase(be, () => c.inputs(new Rng(5)), c.fn);
      assertParity(r.out, ref.out, `${be.name} ${c.name} output`);
      r.grads.forEach((g, i) => {
        const rg = ref.grads[i];
        assert.equal(g === null, rg === null, `${be.name} ${c.name} grad ${i} presence`);
        if (g && rg) assertParity(g, rg, `${be.name} ${c.name} grad ${i}`);
      });
    }
  });
}

test('parity: BERT-sized shapes (linear 64x256 -> 1024, layerNorm 64x768, crossEntropy 20x3000)', () => {
  const mk = (shape: number[], seed: number): Tensor => Tensor.randn(shape, new Rng(seed)).requiresGrad_();
  const targets = new Int32Array(20).map((_, i) => (i === 3 ? -100 : (i * 137) % 3000));
  const cases: Array<[string, () => Tensor[], (x: Tensor[]) => Tensor]> = [
    ['linear', () => [mk([64, 256], 1), mk([1024, 256], 2), mk([1024], 3)], ([x, w, b]) => linear(x, w, b)],
    ['layerNorm', () => [mk([64, 768], 4), mk([768], 5), mk([768], 6)], ([x, g, b]) => layerNorm(x, g, b)],
    ['crossEntropy', () => [mk([20, 3000], 7)], ([l]) => crossEntropy(l, targets)],
  ];
  for (const [name, inputs, fn] of cases) {
    const ref = runCase(jsBackend, inputs, fn);
    for (const be of backends) {
      const r = runCase(be, inputs, fn);
      assertParity(r.out, ref.out, `${be.name} ${name} output`);
      r.grads.forEach((g, i) => {
        if (g) assertParity(g, ref.grads[i] as Float32Array, `${be.name} ${name} grad ${i}`);
      });
    }
  }
});
