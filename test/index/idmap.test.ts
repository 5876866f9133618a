// IdMap (src/index/idmap.ts): the typed-array id -> row map agrees with a JS Map under a long random sequence of
// set / replace / delete / get (growth and backward-shift deletion included), and handles extreme ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdMap } from '../../src/index/idmap.js';
import { Rng } from '../../src/index/kmeans.js';

test('IdMap matches a Map under random set/delete/get', () => {
  const rng = new Rng(9);
  const m = new IdMap(), ref = new Map<number, number>();
  // Ids from a small range so deletes and re-inserts collide often; multiples of 2^20 stress one hash bucket.
  const pick = (): number => (rng.next() < 0.2 ? Math.floor(rng.next() * 64) * 1048576 : Math.floor(rng.next() * 5000));
  for (let step = 0; step < 60000; step++) {
    const id = pick(), op = rng.next();
    if (op < 0.5) {
      const row = Math.floor(rng.next() * 1e6);
      m.set(id, row);
      ref.set(id, row);
    } else if (op < 0.8) {
      assert.equal(m.delete(id), ref.delete(id), `delete ${id} at step ${step}`);
    } else {
      assert.equal(m.get(id), ref.get(id), `get ${id} at step ${step}`);
      assert.equal(m.has(id), ref.has(id));
    }
    assert.equal(m.size, ref.size);
  }
  for (const [id, row] of ref) assert.equal(m.get(id), row);
});

test('IdMap holds 0 and the largest valid id (0xFFFFFFFE)', () => {
  const m = new IdMap(2);
  m.set(0, 5);
  m.set(0xfffffffe, 7);
  assert.equal(m.get(0), 5);
  assert.equal(m.get(0xfffffffe), 7);
  assert.equal(m.get(1), undefined);
  assert.ok(m.delete(0) && !m.has(0) && m.get(0xfffffffe) === 7);
});
