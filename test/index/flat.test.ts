// FlatIndex: exact top-k against a naive double-precision loop (ids and scores, ties by lower row), native vs
// TypeScript kernels, cosine metric, k > size padding, remove/update semantics and save/load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlatIndex, NO_ID } from '../../src/index/index.js';
import { indexAddon } from '../../src/index/native.js';
import { clustered, idsFor } from './synthetic.js';

const kernelSets = indexAddon() ? (['native', 'js'] as const) : (['js'] as const);

/** Naive reference: all scores in float64, sorted descending, ties by insertion order. */
function naive(x: Float32Array, ids: Uint32Array, q: Float32Array, d: number, k: number): { ids: number[]; scores: number[] }[] {
  const n = x.length / d, out = [];
  for (let qi = 0; qi < q.length / d; qi++) {
    const s = [];
    for (let r = 0; r < n; r++) {
      let v = 0;
      for (let j = 0; j < d; j++) v += q[qi * d + j]! * x[r * d + j]!;
      s.push({ r, v });
    }
    s.sort((a, b) => b.v - a.v || a.r - b.r);
    out.push({ ids: s.slice(0, k).map((e) => ids[e.r]!), scores: s.slice(0, k).map((e) => e.v) });
  }
  return out;
}

for (const kernels of kernelSets) {
  test(`FlatIndex (${kernels}) matches a naive loop: ids and scores`, () => {
    const d = 37, n = 1003, nq = 29, k = 10;
    const all = clustered(n + nq, d, 8, 11);
    const x = all.slice(0, n * d), q = all.slice(n * d);
    const ids = idsFor(n);
    const ix = new FlatIndex({ dim: d, kernels });
    ix.add(ids, x);
    const got = ix.search(q, k);
    const want = naive(x, ids, q, d, k);
    for (let i = 0; i < nq; i++) {
      assert.deepEqual(Array.from(got.ids.subarray(i * k, i * k + k)), want[i]!.ids, `query ${i}`);
      for (let j = 0; j < k; j++) assert.ok(Math.abs(got.scores[i * k + j]! - want[i]!.scores[j]!) < 1e-5);
    }
  });

  test(`FlatIndex (${kernels}) breaks exact ties by insertion order and pads k > size`, () => {
    const d = 4;
    const x = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0.5, 0, 0, 0]);
    const ix = new FlatIndex({ dim: d, kernels });
    ix.add([50, 40, 30, 20, 10], x);
    const r = ix.search(new Float32Array([2, 0, 0, 0]), 7);
    assert.deepEqual(Array.from(r.ids), [50, 30, 20, 10, 40, NO_ID, NO_ID]);
    assert.deepEqual(Array.from(r.scores.subarray(0, 5)), [2, 2, 2, 1, 0]);
    assert.equal(r.scores[6], -Infinity);
  });
}

test('FlatIndex native kernels match a naive loop for every batch shape (1-3 queries: row kernel; more: 6x16 tiles)', { skip: kernelSets.length < 2 }, () => {
  // d = 24 (multiple of 8) and d = 37 (masked tail); n = 1001 rows (not a multiple of 4 or 16); nq covers the
  // GEMV-style path (1, 2, 3), partial 6-query tiles (4, 7) and more than one 384-query block (390).
  for (const d of [24, 37]) {
    const n = 1001, k = 7;
    const all = clustered(n + 390, d, 9, 23 + d);
    const x = all.slice(0, n * d), ids = idsFor(n);
    const ix = new FlatIndex({ dim: d, kernels: 'native' });
    ix.add(ids, x);
    for (const nq of [1, 2, 3, 4, 7, 390]) {
      const q = all.slice(n * d, (n + nq) * d);
      const got = ix.search(q, k), want = naive(x, ids, q, d, k);
      for (let i = 0; i < nq; i++) {
        assert.deepEqual(Array.from(got.ids.subarray(i * k, i * k + k)), want[i]!.ids, `d ${d} nq ${nq} query ${i}`);
        for (let j = 0; j < k; j++) assert.ok(Math.abs(got.scores[i * k + j]! - want[i]!.scores[j]!) < 1e-5);
      }
    }
  }
});

test('FlatIndex native and js kernels agree on a batch (multi-threaded native path)', { skip: kernelSets.length < 2 }, () => {
  const d = 100, n = 3000, nq = 64, k = 5;
  const all = clustered(n + nq, d, 20, 3);
  const a = new FlatIndex({ dim: d, kernels: 'native' }), b = new FlatIndex({ dim: d, kernels: 'js' });
  a.add(idsFor(n), all.subarray(0, n * d));
  b.add(idsFor(n), all.subarray(0, n * d));
  const ra = a.search(all.subarray(n * d), k), rb = b.search(all.subarray(n * d), k);
  assert.deepEqual(Array.from(ra.ids), Array.from(rb.ids));
  for (let i = 0; i < ra.scores.length; i++) assert.ok(Math.abs(ra.scores[i]! - rb.scores[i]!) < 1e-5);
});

test('FlatIndex cosine normalises vectors and queries', () => {
  const ix = new FlatIndex({ dim: 2, metric: 'cosine' });
  ix.add([1, 2], new Float32Array([10, 0, 3, 4]));
  const r = ix.search(new Float32Array([0, 5]), 2);
  assert.deepEqual(Array.from(r.ids), [2, 1]);
  assert.ok(Math.abs(r.scores[0]! - 0.8) < 1e-6 && Math.abs(r.scores[1]!) < 1e-6);
});

test('FlatIndex remove/update/save/load', () => {
  const d = 8, n = 200;
  const x = clustered(n, d, 4, 5);
  const ids = idsFor(n);
  const ix = new FlatIndex({ dim: d });
  ix.add(ids, x);
  ix.remove([ids[0]!, ids[7]!]);
  assert.equal(ix.size, n - 2);
  const q = x.slice(0, d);
  assert.ok(!Array.from(ix.search(q, n).ids).includes(ids[0]!));
  const target = new Float32Array(d).fill(0);
  target[3] = 5;
  ix.update([ids[9]!], target);
  assert.equal(ix.search(new Float32Array(d).fill(0).fill(1, 3, 4), 1).ids[0], ids[9]);
  const dir = mkdtempSync(join(tmpdir(), 'flat-'));
  try {
    ix.save(join(dir, 'f.idx'));
    const back = FlatIndex.load(join(dir, 'f.idx'));
    const r1 = ix.search(x, 5), r2 = back.search(x, 5);
    assert.deepEqual(Array.from(r1.ids), Array.from(r2.ids));
    assert.deepEqual(Array.from(r1.scores), Array.from(r2.scores));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
