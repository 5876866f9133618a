/**
 * Heap hygiene of the index addon (src/index/native.ts): pinning glibc's mmap threshold accepts only a sane byte
 * count, defers to a MALLOC_MMAP_THRESHOLD_ the user set, and reports false off glibc; trimHeap is callable; a
 * ScannIndex built after pinning searches exactly as one built before (the allocator setting changes no result).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { indexAddon, MMAP_THRESHOLD_BYTES, pinMmapThreshold, trimHeap } from '../../src/index/native.js';
import { ScannIndex } from '../../src/index/scann.js';
import { clustered, idsFor } from './synthetic.js';

const addon = indexAddon();
const glibc = Boolean((process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime);

test('indexPinMmapThreshold: refuses non-positive and huge sizes; true on glibc unless the user set the variable', { skip: addon ? false : 'native addon not built' }, () => {
  const pin = addon!.indexPinMmapThreshold!;
  assert.equal(typeof pin, 'function');
  assert.equal(pin(0), false);
  assert.equal(pin(-4096), false);
  assert.equal(pin(2 ** 31), false);
  const expected = glibc && process.env.MALLOC_MMAP_THRESHOLD_ === undefined;
  assert.equal(pin(MMAP_THRESHOLD_BYTES), expected);
  trimHeap(); // callable at any time
});

test('a ScannIndex built after pinMmapThreshold returns the same results as one built before', () => {
  const n = 3000, d = 16;
  const x = clustered(n, d, 12, 9);
  const ids = idsFor(n);
  const opts = { dim: d, partition: { leaves: 20 }, seed: 3 };
  const before = ScannIndex.build(x, ids, opts);
  pinMmapThreshold();
  const after = ScannIndex.build(x, ids, opts);
  const q = x.subarray(0, 10 * d);
  const a = before.search(q, 5, { leavesToSearch: 4, reorder: 20 });
  const b = after.search(q, 5, { leavesToSearch: 4, reorder: 20 });
  assert.deepEqual(Array.from(b.ids), Array.from(a.ids));
  assert.deepEqual(Array.from(b.scores), Array.from(a.scores));
});
