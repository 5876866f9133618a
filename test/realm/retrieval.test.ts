/**
 * Retrieval inside the loop (REALM §3.4): top-k from a real FlatIndex equals brute force; x's own block is never
 * returned (even when it is the best match) and k blocks are still returned; document-level exclusion drops every
 * block of x's document, widening the search as needed; with fewer eligible blocks than k, all of them come back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/index.js';
import { FlatIndex } from '../../src/index/flat.js';
import { DocumentGroups, exclusionsFor, retrieveForBatch } from '../../src/realm/retrieval.js';
import type { RealmExample } from '../../src/realm/batch.js';

const DIM = 8;

function setup(n: number, seed: number): { index: FlatIndex; vecs: Float32Array } {
  const rng = new Rng(seed);
  const vecs = new Float32Array(n * DIM);
  rng.fillNormal(vecs);
  // unit rows: a query equal to a block's vector then has that block as its unique best inner product
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < DIM; c++) s += vecs[i * DIM + c] ** 2;
    for (let c = 0; c < DIM; c++) vecs[i * DIM + c] /= Math.sqrt(s);
  }
  const index = new FlatIndex({ dim: DIM, kernels: 'js' });
  index.add(Array.from({ length: n }, (_, i) => i), vecs);
  return { index, vecs };
}

/** Brute-force top-k ids of a query, skipping `ex`. */
function brute(vecs: Float32Array, n: number, q: Float32Array, k: number, ex: Set<number>): number[] {
  const s = Array.from({ length: n }, (_, i) => {
    let v = 0;
    for (let c = 0; c < DIM; c++) v += q[c] * vecs[i * DIM + c];
    return [i, v] as const;
  });
  return s.filter(([i]) => !ex.has(i)).sort((a, b) => b[1] - a[1]).slice(0, k).map(([i]) => i);
}

const ex = (sourceBlockId?: number): RealmExample => ({ inputIds: Int32Array.of(4), labels: Int32Array.of(5), sourceBlockId });

test('own-block exclusion: the source block is dropped even when it is the top hit, k results remain', () => {
  const n = 50;
  const { index, vecs } = setup(n, 1);
  // queries equal to some blocks' own vectors scaled up: their own block is the top match
  const sources = [3, 17, 42];
  const q = new Float32Array(sources.length * DIM);
  sources.forEach((s, b) => { for (let c = 0; c < DIM; c++) q[b * DIM + c] = 10 * vecs[s * DIM + c]; });
  const plain = retrieveForBatch(q, index, 8);
  sources.forEach((s, b) => assert.equal(plain.ids[b][0], s, 'own block is the best match without exclusion'));
  const got = retrieveForBatch(q, index, 8, exclusionsFor(sources.map((s) => ex(s)), 'block'));
  sources.forEach((s, b) => {
    assert.ok(!got.ids[b].includes(s));
    assert.deepEqual(got.ids[b], brute(vecs, n, q.subarray(b * DIM, (b + 1) * DIM), 8, new Set([s])));
    assert.equal(got.staleScores[b].length, 8);
    for (let j = 1; j < 8; j++) assert.ok(got.staleScores[b][j - 1] >= got.staleScores[b][j]);
  });
});

test('document exclusion drops all blocks of the source document (search widened past many excluded hits)', () => {
  const n = 60;
  const { index, vecs } = setup(n, 2);
  // document "d0" owns blocks 0..19 (20 blocks), the rest belong to one-block documents
  const docOf = Array.from({ length: n }, (_, i) => (i < 20 ? 'd0' : `d${i}`));
  const groups = new DocumentGroups(docOf);
  assert.deepEqual([...groups.sameDocument(5)], Array.from({ length: 20 }, (_, i) => i));
  // a query close to the centroid of d0's blocks, so d0's blocks fill the first search round
  const q = new Float32Array(DIM);
  for (let i = 0; i < 20; i++) for (let c = 0; c < DIM; c++) q[c] += vecs[i * DIM + c];
  const got = retrieveForBatch(q, index, 8, exclusionsFor([ex(5)], 'document', groups));
  assert.equal(got.ids[0].length, 8);
  assert.ok(got.ids[0].every((id) => id >= 20));
  assert.deepEqual(got.ids[0], brute(vecs, n, q, 8, new Set(groups.sameDocument(5))));
});

test('fewer eligible blocks than k: all of them, best first; no exclusion without a source block', () => {
  const n = 5;
  const { index, vecs } = setup(n, 3);
  const q = new Float32Array(2 * DIM).fill(0.5);
  const got = retrieveForBatch(q, index, 8, exclusionsFor([ex(2), ex()], 'block'));
  assert.deepEqual(got.ids[0], brute(vecs, n, q, 8, new Set([2])));
  assert.equal(got.ids[0].length, 4);
  assert.equal(got.ids[1].length, 5);
  assert.deepEqual(exclusionsFor([ex(2)], 'none'), [null]);
  assert.throws(() => exclusionsFor([ex(2)], 'document'), /DocumentGroups/);
  assert.throws(() => retrieveForBatch(new Float32Array(DIM + 1), index, 2), /multiple of the index dim/);
  assert.throws(() => retrieveForBatch(q, index, 0), /positive integer/);
});
