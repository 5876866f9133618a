/**
 * Gradient checks: every op's backward against central finite differences of L = sum(out * w) (random w), on the
 * JS reference backend, plus a control showing a deliberately wrong backward is caught.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../../src/engine/index.js';
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

test('gradcheck: a whole transformer block with tied MLM decoder (composition, shared weights, masks, dropout)', () => {
  const rng = new Rng(8);
  const [B, T, H, nh, V] = [2, 4, 8, 2, 11];
  const hd = H / nh;
  const ids = Int32Array.from({ length: B * T }, () => rng.int(V));
  const targets = Int32Array.from(ids, (t, i) => (i % 3 === 0 ? t : -100));
  const keep = [1, 1, 1, 0, 1, 1, 1, 1];
  const params = [
    rand(rng, [V, H], 0.5), // tied embedding / decoder
    rand(rng, [H, H], 0.5), rand(rng, [H, H], 0.5), rand(rng, [H, H], 0.5), // q, k, v
    rand(rng, [H]), rand(rng, [H]), // layer-norm gamma, beta
    rand(rng, [V]), // decoder bias
  ];
  const block = ([emb, wq, wk, wv, g, b, db]: Tensor[]): Tensor => {
    const x = E.embedding(emb, ids);
    const heads = (t: Tensor): Tensor => E.permute(E.reshape(t, [B, T, nh, hd]), [0, 2, 1, 3]);
    const s = E.add(E.matmul(heads(E.linear(x, wq)), heads(E.linear(x, wk)), { transB: true, alpha: 1 / Math.sqrt(hd) }), E.attentionMaskBias(keep, B, T));
    const p = E.dropout(E.softmax(s), 0.2, new Rng(4), true);
    const ctx = E.reshape(E.permute(E.matmul(p, heads(E.linear(x, wv))), [0, 2, 1, 3]), [B * T, H]);
    const h = E.layerNorm(E.add(x, E.gelu(ctx)), g, E.addScalar(b, 0), 1e-5);
    return E.crossEntropy(E.linear(h, emb, db), targets);
  };
  const r = gradcheck(block, params, { maxPerInput: 24 });
  assert.ok(r.ok, `worst ratio ${r.worst.toFixed(3)} at ${r.detail}`);
});
