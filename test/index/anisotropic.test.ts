// Anisotropic vector quantisation (Guo et al. 2020): eta(T) against a hand-computed value, monotone decrease of
// the score-aware objective (native and TypeScript trainers, reported objective = recomputed objective), and,
// at equal bits, better maximum-inner-product ranking and smaller inner-product error on the true neighbours than
// plain PQ (threshold null) on clustered data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apqInputs, apqLoss, parallelCostMultiplier, trainApq } from '../../src/index/anisotropic.js';
import { assignLeaves, trainPartition } from '../../src/index/kmeans.js';
import { indexAddon } from '../../src/index/native.js';
import { FlatIndex, ScannIndex } from '../../src/index/index.js';
import { clustered, idsFor, recallAtK } from './synthetic.js';

test('eta(T) = (d - 1) (T^2/|x|^2) / (1 - T^2/|x|^2)', () => {
  assert.ok(Math.abs(parallelCostMultiplier(0.2, 1, 100) - (99 * 0.04) / 0.96) < 1e-12);
  assert.ok(Math.abs(parallelCostMultiplier(0.5, 4, 11) - (10 * 0.0625) / 0.9375) < 1e-12);
  assert.equal(parallelCostMultiplier(0.2, 0, 100), 1);
});

function inputs(threshold: number | null) {
  const d = 24, n = 1200, M = 12;
  const x = clustered(n, d, 10, 21);
  const cent = trainPartition(x, n, d, { leaves: 8, iterations: 5 }, null);
  const a = assignLeaves(x, n, d, cent, 8, false, null);
  const r = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) r[i * d + j] = x[i * d + j]! - cent[a[i]! * d + j]!;
  return apqInputs(x, r, n, d, M, threshold);
}

const trainers = indexAddon() ? ([['native', indexAddon()], ['js', null]] as const) : ([['js', null]] as const);

for (const [name, addon] of trainers) {
  test(`anisotropic codebook objective never increases (${name} trainer)`, () => {
    const inp = inputs(0.2);
    const model = trainApq(inp, 6, 3, addon);
    const L = model.losses;
    assert.equal(L.length, 7);
    for (let i = 1; i < L.length; i++) assert.ok(L[i]! <= L[i - 1]! * (1 + 1e-9), `iteration ${i}: ${L[i - 1]} -> ${L[i]}`);
    assert.ok(L[6]! < 0.9 * L[0]!, `objective should drop clearly: ${L[0]} -> ${L[6]}`);
    const again = apqLoss(inp, model.codebooks, model.codes);
    assert.ok(Math.abs(again - L[6]!) <= 1e-6 * L[6]!, `reported ${L[6]} vs recomputed ${again}`);
  });
}

test('native and TypeScript trainers reach the same objective', { skip: trainers.length < 2 }, () => {
  const inp = inputs(0.2);
  const a = trainApq(inp, 4, 3, indexAddon()), b = trainApq(inp, 4, 3, null);
  assert.ok(Math.abs(a.losses[0]! - b.losses[0]!) <= 1e-6 * a.losses[0]!);
  assert.ok(Math.abs(a.losses[4]! - b.losses[4]!) <= 0.01 * a.losses[4]!, `${a.losses[4]} vs ${b.losses[4]}`);
});

test('at equal bits, anisotropic PQ ranks MIPS neighbours better than plain PQ', () => {
  const d = 32, n = 6000, nq = 100, k = 10;
  const all = clustered(n + nq, d, 30, 8, 0.8);
  const x = all.subarray(0, n * d), q = all.subarray(n * d);
  const ids = idsFor(n);
  const flat = new FlatIndex({ dim: d });
  flat.add(ids, x);
  const truth = flat.search(q, k);
  const build = (threshold: number | null) =>
    ScannIndex.build(x, ids, { dim: d, partition: { leaves: 16 }, quantize: { anisotropicThreshold: threshold, iterations: 6 } });
  const aniso = build(0.2), plain = build(null);
  // Approximate scores only (reorder 0), every leaf probed: the ranking is the quantiser's alone.
  const ra = aniso.search(q, k, { leavesToSearch: 16, reorder: 0 });
  const rp = plain.search(q, k, { leavesToSearch: 16, reorder: 0 });
  const recA = recallAtK(truth.ids, ra.ids, nq, k), recP = recallAtK(truth.ids, rp.ids, nq, k);
  assert.ok(recA > recP, `anisotropic recall ${recA} should beat plain PQ ${recP}`);
  // Inner-product error on the true top-k: the score the quantiser gives the true neighbours vs the exact score.
  const errOf = (ix: ScannIndex): number => {
    const all2 = ix.search(q, n, { leavesToSearch: 16, reorder: 0 });
    let e = 0;
    for (let i = 0; i < nq; i++) {
      const pos = new Map<number, number>();
      for (let j = 0; j < n; j++) pos.set(all2.ids[i * n + j]!, all2.scores[i * n + j]!);
      for (let j = 0; j < k; j++) e += Math.abs(pos.get(truth.ids[i * k + j]!)! - truth.scores[i * k + j]!);
    }
    return e / (nq * k);
  };
  const eA = errOf(aniso), eP = errOf(plain);
  assert.ok(eA < eP, `anisotropic top-k inner-product error ${eA} should be below plain PQ ${eP}`);
});
