// Index factory strings (src/index/factory.ts): parsing into the staged ScannOptions (hand-written expectations),
// errors that name the bad token, and buildIndex giving the same index as the options object / FlatIndex.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlatIndex, IndexArgumentError, ScannIndex, buildIndex, parseFactory } from '../../src/index/index.js';
import { clustered, idsFor } from './synthetic.js';

test('parseFactory maps each token to its stage', () => {
  assert.deepEqual(parseFactory('Flat'), { kind: 'flat' });
  assert.deepEqual(parseFactory('IVF1000,AH0.2,RR100,NP32'), {
    kind: 'scann',
    options: { partition: { leaves: 1000, spherical: false }, quantize: { anisotropicThreshold: 0.2 }, rerank: { reorder: 100 }, search: { leavesToSearch: 32 } },
  });
  assert.deepEqual(parseFactory(' RR0 , IVF64s_it4 , PQ '), {
    kind: 'scann',
    options: { rerank: { reorder: 0 }, partition: { leaves: 64, spherical: true, iterations: 4 }, quantize: { anisotropicThreshold: null } },
  });
  assert.deepEqual(parseFactory('IVF8,AH'), { kind: 'scann', options: { partition: { leaves: 8, spherical: false }, quantize: { anisotropicThreshold: 0.2 } } });
});

test('parseFactory rejects bad strings with the offending token in the message', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['AH0.2,RR10', /needs a partition stage/],
    ['IVF10,IVF20', /given twice.*IVF20/],
    ['IVF10,AH,PQ', /given twice.*PQ/],
    ['IVF0', /IVF0.*>= 1/],
    ['IVF10,NP0', /NP0/],
    ['IVF10,AH1.5', /AH1\.5.*\[0, 1\)/],
    ['IVF10,HNSW32', /unknown token "HNSW32"/],
    ['Flat,RR10', /Flat.*cannot be combined/],
  ];
  for (const [spec, re] of cases) assert.throws(() => parseFactory(spec), (e: Error) => e instanceof IndexArgumentError && re.test(e.message), spec);
});

test('buildIndex gives the same index as the options object (ScannIndex) and as FlatIndex', () => {
  const d = 16, n = 3000, nq = 20, k = 5;
  const all = clustered(n + nq, d, 12, 5);
  const x = all.subarray(0, n * d), q = all.subarray(n * d);
  const ids = idsFor(n);
  const viaString = buildIndex('IVF40,AH0.2,RR50,NP6', x, ids, { dim: d });
  assert.ok(viaString instanceof ScannIndex);
  assert.equal((viaString as ScannIndex).leaves, 40);
  const viaOptions = ScannIndex.build(x, ids, { dim: d, partition: { leaves: 40 }, quantize: { anisotropicThreshold: 0.2 }, rerank: { reorder: 50 }, search: { leavesToSearch: 6 } });
  // Defaults from the string (NP6, RR50) equal explicit parameters on the options-built index.
  assert.deepEqual(viaString.search(q, k), viaOptions.search(q, k, { leavesToSearch: 6, reorder: 50 }));
  const flat = buildIndex('Flat', x, ids, { dim: d });
  assert.ok(flat instanceof FlatIndex);
  const ref = new FlatIndex({ dim: d });
  ref.add(ids, x);
  assert.deepEqual(flat.search(q, k), ref.search(q, k));
});
