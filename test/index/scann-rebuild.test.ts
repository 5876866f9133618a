// ScannIndex drift and rebuild(): after the whole corpus is re-embedded into a new distribution (REALM's index
// refresh), drift reports it, and the rebuilt index (retrained partition + codebooks) holds the same ids and
// regains recall vs FlatIndex brute force; save/load keeps the drift count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlatIndex, ScannIndex } from '../../src/index/index.js';
import { clustered, idsFor, recallAtK } from './synthetic.js';

test('drift counts re-embedded rows; rebuild retrains and restores recall', () => {
  const d = 24, n = 4000, nq = 80, k = 10;
  const before = clustered(n, d, 30, 101);
  const after = clustered(n + nq, d, 30, 202); // other cluster centres: the trained leaves no longer fit
  const ids = idsFor(n);
  const ix = ScannIndex.build(before, ids, { dim: d, partition: { leaves: 63 } });
  assert.equal(ix.drift, 0);
  const tenth = ids.subarray(0, n / 10);
  ix.update(tenth, after.subarray(0, (n / 10) * d));
  assert.ok(Math.abs(ix.drift - 0.1) < 1e-12, `drift ${ix.drift}`);
  ix.update(ids, after.subarray(0, n * d));
  assert.equal(ix.drift, 1);
  const dir = mkdtempSync(join(tmpdir(), 'scann-drift-'));
  try {
    ix.save(join(dir, 'i.idx'));
    assert.equal(ScannIndex.load(join(dir, 'i.idx')).drift, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const q = after.subarray(n * d);
  const flat = new FlatIndex({ dim: d });
  flat.add(ids, after.subarray(0, n * d));
  const truth = flat.search(q, k).ids;
  const setting = { leavesToSearch: 5, reorder: 100 };
  const stale = recallAtK(truth, ix.search(q, k, setting).ids, nq, k);
  const fresh = ix.rebuild();
  assert.equal(fresh.size, n);
  assert.equal(fresh.leaves, 63);
  assert.equal(fresh.drift, 0);
  for (const id of [ids[0]!, ids[n - 1]!]) assert.ok(fresh.has(id));
  const rebuilt = recallAtK(truth, fresh.search(q, k, setting).ids, nq, k);
  assert.ok(rebuilt >= 0.9, `rebuilt recall ${rebuilt}`);
  assert.ok(rebuilt >= stale + 0.1, `rebuilt ${rebuilt} vs stale ${stale}: the retrained partition should fit clearly better`);
  // The old index is untouched.
  assert.equal(ix.drift, 1);
});
