/**
 * RNG tests: determinism, state round-trip (checkpoint resume), and distribution sanity of every sampler.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, RngError } from '../../src/engine/index.js';

test('same seed, same stream; different seeds differ', () => {
  const a = new Rng(123);
  const b = new Rng(123);
  const c = new Rng(124);
  const sa = Array.from({ length: 20 }, () => a.nextUint32());
  assert.deepEqual(sa, Array.from({ length: 20 }, () => b.nextUint32()));
  assert.notDeepEqual(sa, Array.from({ length: 20 }, () => c.nextUint32()));
  assert.notDeepEqual(new Rng(2 ** 40).getState(), new Rng(0).getState());
});

test('getState/setState round-trip resumes the exact stream (via JSON)', () => {
  const r = new Rng(7);
  for (let i = 0; i < 33; i++) r.normal();
  const saved = JSON.parse(JSON.stringify(r.getState())) as number[];
  const cont = Array.from({ length: 10 }, () => [r.random(), r.normal(), r.int(5, 17)]);
  const r2 = Rng.fromState(saved);
  assert.deepEqual(Array.from({ length: 10 }, () => [r2.random(), r2.normal(), r2.int(5, 17)]), cont);
  assert.throws(() => r2.setState([1, 2, 3]), RngError);
  assert.throws(() => r2.setState([0, 0, 0, 0]), RngError);
  assert.throws(() => r2.setState([1, 2, 3, 2 ** 32]), RngError);
});

test('uniform, normal and int have the right moments and ranges', () => {
  const r = new Rng(11);
  const n = 200000;
  let su = 0;
  let sn = 0;
  let sn2 = 0;
  const counts = new Array<number>(7).fill(0);
  for (let i = 0; i < n; i++) {
    const u = r.random();
    assert.ok(u >= 0 && u < 1);
    su += u;
    const z = r.normal(1, 2);
    sn += z;
    sn2 += z * z;
    counts[r.int(3, 10) - 3]++;
  }
  assert.ok(Math.abs(su / n - 0.5) < 0.005);
  const mean = sn / n;
  assert.ok(Math.abs(mean - 1) < 0.02, `normal mean ${mean}`);
  assert.ok(Math.abs(Math.sqrt(sn2 / n - mean * mean) - 2) < 0.02);
  for (const c of counts) assert.ok(Math.abs(c / n - 1 / 7) < 0.005, `int bucket ${c}`);
  assert.throws(() => r.int(3, 3), RngError);
});

test('shuffle/permutation produce permutations; truncated normal stays within 2 std', () => {
  const r = new Rng(3);
  const p = r.permutation(50);
  assert.deepEqual(Array.from(p).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  const arr = ['a', 'b', 'c', 'd'];
  r.shuffle(arr);
  assert.deepEqual([...arr].sort(), ['a', 'b', 'c', 'd']);
  const t = r.fillTruncatedNormal(new Float32Array(10000), 0, 0.02);
  assert.ok(t.every((v) => Math.abs(v) <= 0.04 + 1e-9));
  const f1 = new Rng(5).fork();
  const f2 = new Rng(5).fork();
  assert.equal(f1.nextUint32(), f2.nextUint32());
});

test('fillUint32 continues exactly the nextUint32 stream', () => {
  const a = new Rng(99);
  const b = new Rng(99);
  a.nextUint32();
  b.nextUint32();
  const bulk = a.fillUint32(new Uint32Array(1000));
  const one = Array.from({ length: 1000 }, () => b.nextUint32());
  assert.deepEqual(Array.from(bulk), one);
  assert.equal(a.nextUint32(), b.nextUint32());
  assert.deepEqual(a.getState(), b.getState());
});
