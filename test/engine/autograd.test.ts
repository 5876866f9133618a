/**
 * Autograd engine tests: graph recording and noGrad, accumulation into leaves across backward calls, shared
 * sub-expressions (diamond graphs), graph freeing and retainGraph, detach, views, and error reporting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../../src/engine/index.js';
import { Tensor, Rng, setBackend } from '../../src/engine/index.js';

setBackend('js');

test('noGrad builds no graph; isGradEnabled is restored even after a throw', () => {
  const w = Tensor.randn([3, 3], new Rng(1)).requiresGrad_();
  const y = E.noGrad(() => E.sum(E.tanh(E.matmul(w, w))));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradFn, null);
  assert.equal(E.isGradEnabled(), true);
  assert.throws(() => E.noGrad(() => { throw new Error('boom'); }), /boom/);
  assert.equal(E.isGradEnabled(), true);
  assert.throws(() => y.backward(), /does not require grad/);
  // ops on tensors that need no grad record nothing either
  const c = E.add(Tensor.ones([2]), Tensor.ones([2]));
  assert.equal(c.gradFn, null);
});

test('gradients accumulate into .grad across backward calls until zeroed', () => {
  const x = Tensor.fromArray([1, 2, 3]).requiresGrad_();
  E.sum(E.mul(x, x)).backward();
  assert.deepEqual(Array.from(x.grad!.data), [2, 4, 6]);
  E.sum(E.scale(x, 3)).backward();
  assert.deepEqual(Array.from(x.grad!.data), [5, 7, 9]);
  x.zeroGrad();
  assert.equal(x.grad, null);
});

test('diamond graph: a value used by several consumers gets the summed gradient', () => {
  const x = Tensor.fromArray([0.5, -1, 2]).requiresGrad_();
  const y = E.exp(x); // used three times below
  const z = E.add(E.mul(y, y), E.add(y, E.reshape(y, [3])));
  E.sum(z).backward();
  // dz/dx = (2 e^{2x} + 2 e^x)
  const want = [0.5, -1, 2].map((v) => 2 * Math.exp(2 * v) + 2 * Math.exp(v));
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(x.grad!.data[i] - want[i]) < 1e-4 * Math.abs(want[i]));
});

test('backward frees the graph; retainGraph allows a second pass', () => {
  const x = Tensor.fromArray([1, 2]).requiresGrad_();
  const y = E.sum(E.mul(x, x));
  y.backward(undefined, { retainGraph: true });
  y.backward();
  assert.deepEqual(Array.from(x.grad!.data), [4, 8]);
  assert.throws(() => y.backward(), /already freed/);
});

test('backward of a non-scalar needs an explicit gradient of the right size', () => {
  const x = Tensor.fromArray([1, 2, 3]).requiresGrad_();
  const y = E.scale(x, 2);
  assert.throws(() => y.backward(), /one-element/);
  assert.throws(() => y.backward(new Float32Array(2)), /size 2/);
  y.backward(Tensor.fromArray([1, 0, -1]));
  assert.deepEqual(Array.from(x.grad!.data), [2, 0, -2]);
});

test('the seed gradient and borrowed buffers are never mutated', () => {
  const x = Tensor.fromArray([1, 2]).requiresGrad_();
  const seed = Float32Array.from([1, 1]);
  const y = E.reshape(x, [2]); // backward passes the seed straight through
  y.backward(seed);
  x.grad!.data[0] = 99;
  assert.deepEqual(Array.from(seed), [1, 1]);
  // two consumers of one reshape: the passed-through buffer must be copied before accumulating
  const a = Tensor.fromArray([1, 2]).requiresGrad_();
  const r = E.reshape(a, [2]);
  const s = E.add(r, r);
  const g = Float32Array.from([3, 4]);
  s.backward(g);
  assert.deepEqual(Array.from(g), [3, 4]);
  assert.deepEqual(Array.from(a.grad!.data), [6, 8]);
});

test('detach cuts the graph; reshape and leading slice are views sharing data', () => {
  const x = Tensor.fromArray([1, 2, 3, 4]).requiresGrad_();
  const d = E.mul(x.detach(), x);
  E.sum(d).backward();
  assert.deepEqual(Array.from(x.grad!.data), [1, 2, 3, 4]);
  const v = E.reshape(x, [2, 2]);
  assert.equal(v.data.buffer, x.data.buffer);
  const s = E.slice(v, 0, 1, 2);
  assert.equal(s.data.buffer, x.data.buffer);
  assert.deepEqual(Array.from(s.data), [3, 4]);
});

test('gradient only flows to inputs that require it', () => {
  const w = Tensor.fromArray([1, 2, 3, 4], [2, 2]).requiresGrad_();
  const x = Tensor.fromArray([1, 1], [1, 2]);
  const y = E.sum(E.matmul(x, w));
  y.backward();
  assert.equal(x.grad, null);
  assert.deepEqual(Array.from(w.grad!.data), [1, 1, 1, 1]);
});

test('a deep chain (10k ops) back-propagates without recursion limits', () => {
  const x = Tensor.fromArray([1]).requiresGrad_();
  let y: Tensor = x;
  for (let i = 0; i < 10000; i++) y = E.addScalar(y, 1e-4);
  y.backward();
  assert.equal(x.grad!.data[0], 1);
});

test('tensor basics: shapes, item, toArray, factories, errors', () => {
  const t = Tensor.fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.equal(t.size, 6);
  assert.equal(t.ndim, 2);
  assert.deepEqual(t.toArray(), [[1, 2, 3], [4, 5, 6]]);
  assert.equal(Tensor.scalar(2.5).item(), 2.5);
  assert.throws(() => t.item(), /6 elements/);
  assert.throws(() => new Tensor(new Float32Array(5), [2, 3]), E.TensorError);
  assert.deepEqual(Array.from(Tensor.full([2], 7).data), [7, 7]);
  assert.deepEqual(Array.from(Tensor.ones([3]).data), [1, 1, 1]);
  const p = E.param([1, 2], [2], 'w');
  assert.equal(p.requiresGrad, true);
  assert.equal(p.name, 'w');
  const r1 = Tensor.randn([4], new Rng(5));
  const r2 = Tensor.randn([4], new Rng(5));
  assert.deepEqual(r1.data, r2.data);
  const u = Tensor.uniform([100], new Rng(5), -2, -1);
  assert.ok(u.data.every((v) => v >= -2 && v < -1));
});

test('mixing borrowed and fresh gradient buffers on one intermediate sums correctly without aliasing', () => {
  const x = Tensor.fromArray([1, 2, 3]).requiresGrad_();
  const y = E.addScalar(x, 0); // intermediate; gets g borrowed twice (add) and fresh buffers (scale, mul)
  const z = E.add(E.add(y, y), E.add(E.scale(y, 3), E.mul(y, Tensor.fromArray([10, 20, 30]))));
  const seed = Float32Array.from([1, 1, 1]);
  z.backward(seed);
  assert.deepEqual(Array.from(x.grad!.data), [15, 25, 35]);
  assert.deepEqual(Array.from(seed), [1, 1, 1]);
});
