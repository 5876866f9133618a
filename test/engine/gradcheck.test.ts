/**
 * Gradient checks: every op's backward against central finite differences of L = sum(out * w) (random w), on the
 * JS reference backend, plus a control showing a deliberately wrong backward is caught.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, setBackend, record } from '../../src/engine/index.js';
import { gradcheck, rand } from './gradcheck-helpers.js';
import { opCases } from './op-cases.js';

setBackend('js');

for (const c of opCases()) {
  test(`gradcheck: ${c.name}`, () => {
    const inputs = c.inputs(new Rng(42));
    const r = gradcheck(c.fn, inputs, { eps: c.eps });
    assert.ok(r.ok, `${c.name}: worst ratio ${r.worst.toFixed(3)} at ${r.detail}`);
  });
}

/** A cube op with a configurable (possibly wrong) backward, to prove the checker has teeth. */
function cube(a: Tensor, wrongFactor: number, wrongIndex = -1): Tensor {
  const y = new Float32Array(a.size);
  for (let i = 0; i < a.size; i++) y[i] = a.data[i] ** 3;
  return record(new Tensor(y, a.shape), [a], 'cube', (g) => {
    const r = new Float32Array(a.size);
    for (let i = 0; i < a.size; i++) r[i] = g[i] * 3 * a.data[i] ** 2 * (i === wrongIndex || wrongIndex < 0 ? wrongFactor : 1);
    return [r];
  });
}

test('gradcheck accepts a correct custom backward', () => {
  const r = gradcheck(([a]) => cube(a, 1), [rand(new Rng(1), [10])]);
  assert.ok(r.ok, r.detail);
});

test('gradcheck rejects a backward that is 5% off everywhere', () => {
  const r = gradcheck(([a]) => cube(a, 1.05), [rand(new Rng(1), [10])]);
  assert.equal(r.ok, false);
});

test('gradcheck rejects a backward wrong in a single element', () => {
  const r = gradcheck(([a]) => cube(a, 0.5, 3), [rand(new Rng(1), [10])]);
  assert.equal(r.ok, false);
  assert.match(r.detail, /element 3\b/);
});

test('gradcheck rejects a missing broadcast reduction (gradient of the wrong input)', () => {
  // claims d(a*b)/da = g (forgetting the factor b)
  const bad = (a: Tensor, b: Tensor): Tensor => {
    const y = new Float32Array(a.size);
    for (let i = 0; i < a.size; i++) y[i] = a.data[i] * b.data[i];
    return record(new Tensor(y, a.shape), [a, b], 'badmul', (g) => [g, null]);
  };
  const rng = new Rng(3);
  const r = gradcheck(([a, b]) => bad(a, b), [rand(rng, [6]), Tensor.randn([6], rng, 1, 2)]);
  assert.equal(r.ok, false);
});
