// ScannIndex: recall@10 floor vs FlatIndex on synthetic clustered data at a documented setting, agreement of the
// native and TypeScript search pipelines, add after build, remove (never returned, compaction), update (found at
// the new place), leaf growth, save/load round trip (identical results), and every bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlatIndex, IndexArgumentError, IndexFileError, ScannIndex } from '../../src/index/index.js';
import { indexAddon } from '../../src/index/native.js';
import { clustered, idsFor, recallAtK } from './synthetic.js';

const d = 32, n = 8000, nq = 100, k = 10;
const all = clustered(n + 2000 + nq, d, 40, 17);
const x = all.subarray(0, n * d), extra = all.subarray(n * d, (n + 2000) * d), q = all.subarray((n + 2000) * d);
const ids = idsFor(n);
// Documented setting: leaves = round(sqrt(N)) = 89, probe 8 leaves (9 %), re-rank 100 candidates.
const setting = { leavesToSearch: 8, reorder: 100 };
const index = ScannIndex.build(x, ids, { dim: d, partition: { leaves: 89 } });
const flat = new FlatIndex({ dim: d });
flat.add(ids, x);
const truth = flat.search(q, k);
const tmp = mkdtempSync(join(tmpdir(), 'scann-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('recall@10 >= 0.9 vs FlatIndex (N=8000, d=32, 89 leaves, leavesToSearch 8, reorder 100)', () => {
  const r = index.search(q, k, setting);
  const rec = recallAtK(truth.ids, r.ids, nq, k);
  assert.ok(rec >= 0.9, `recall ${rec}`);
  // Re-ranked scores are exact inner products.
  for (let i = 0; i < nq * k; i++) {
    if (r.ids[i] === truth.ids[i]) assert.ok(Math.abs(r.scores[i]! - truth.scores[i]!) < 1e-5);
  }
  // More probes never hurt much and reach (almost) exact recall.
  const wide = recallAtK(truth.ids, index.search(q, k, { leavesToSearch: 40, reorder: 300 }).ids, nq, k);
  assert.ok(wide >= 0.99, `wide recall ${wide}`);
});

test('native and TypeScript search pipelines agree on the same index', { skip: !indexAddon() }, () => {
  const path = join(tmp, 'agree.idx');
  index.save(path);
  const js = ScannIndex.load(path, { kernels: 'js' });
  assert.equal(js.kernels, 'js');
  const a = index.search(q, k, setting), b = js.search(q, k, setting);
  let same = 0;
  for (let i = 0; i < nq * k; i++) if (a.ids[i] === b.ids[i]) same++;
  assert.ok(same / (nq * k) >= 0.98, `agreement ${same / (nq * k)}`);
  const c = index.search(q, k, { leavesToSearch: 8, reorder: 0 }), e = js.search(q, k, { leavesToSearch: 8, reorder: 0 });
  for (let i = 0; i < nq * k; i++) if (c.ids[i] === e.ids[i]) assert.ok(Math.abs(c.scores[i]! - e.scores[i]!) < 1e-4);
});

test('save/load round trip gives identical results', () => {
  const path = join(tmp, 'rt.idx');
  index.save(path);
  const back = ScannIndex.load(path);
  assert.equal(back.size, index.size);
  const a = index.search(q, k, setting), b = back.search(q, k, setting);
  assert.deepEqual(Array.from(a.ids), Array.from(b.ids));
  assert.deepEqual(Array.from(a.scores), Array.from(b.scores));
});

test('add after build, remove, update, leaf growth', () => {
  const ix = ScannIndex.load(join(tmp, 'rt.idx'));
  const extraIds = idsFor(2000, 7, 1_000_000);
  ix.add(extraIds, extra);
  assert.equal(ix.size, n + 2000);
  // Added vectors are found (each unit vector is its own best match).
  const self = ix.search(extra.subarray(0, 50 * d), 1, setting);
  for (let i = 0; i < 50; i++) assert.equal(self.ids[i], extraIds[i]);
  // Recall over the grown corpus stays at the floor.
  const f2 = new FlatIndex({ dim: d });
  f2.add(ids, x);
  f2.add(extraIds, extra);
  assert.ok(recallAtK(f2.search(q, k).ids, ix.search(q, k, setting).ids, nq, k) >= 0.9);
  // Remove a third of the original ids (compaction triggers); they are never returned.
  const gone = ids.filter((_, i) => i % 3 === 0);
  ix.remove(gone);
  assert.equal(ix.size, n + 2000 - gone.length);
  const goneSet = new Set(gone);
  const r = ix.search(x.subarray(0, 300 * d), 20, { leavesToSearch: 30, reorder: 200 });
  for (const id of r.ids) assert.ok(!goneSet.has(id), `removed id ${id} returned`);
  assert.ok(!ix.has(gone[0]!) && ix.has(ids[1]!));
  // Update: move ids to new vectors; found at the new place, not at the old one.
  const moved = [ids[1]!, ids[2]!, ids[4]!];
  const newVecs = extra.slice(1000 * d, 1003 * d).map((v) => -v);
  ix.update(moved, newVecs);
  const atNew = ix.search(newVecs, 1, setting);
  assert.deepEqual(Array.from(atNew.ids), moved);
  const atOld = ix.search(x.subarray(1 * d, 2 * d), 1, setting);
  assert.notEqual(atOld.ids[0], ids[1]);
  // Leaf growth: 600 near-copies of one vector land in one leaf (forcing moves / re-layout); all are found.
  const base = x.subarray(5 * d, 6 * d);
  const dup = new Float32Array(600 * d);
  for (let i = 0; i < 600; i++) for (let j = 0; j < d; j++) dup[i * d + j] = base[j]! + 1e-3 * Math.sin(i * 7 + j);
  const dupIds = idsFor(600, 1, 5_000_000);
  ix.add(dupIds, dup);
  // (k = 601: the original vector scores about as high as its near-copies.)
  const got = ix.search(base, 601, { leavesToSearch: 5, reorder: 1200 });
  const found = new Set(got.ids);
  assert.deepEqual(Array.from(dupIds).filter((id) => !found.has(id)), []);
  ix.compact();
  const again = ix.search(base, 601, { leavesToSearch: 5, reorder: 1200 });
  assert.deepEqual(Array.from(again.ids).sort(), Array.from(got.ids).sort());
});

test('bad inputs raise clear errors and change nothing', () => {
  const ix = ScannIndex.load(join(tmp, 'rt.idx'));
  const v = x.slice(0, 2 * d);
  assert.throws(() => ix.search(q, 0), IndexArgumentError);
  assert.throws(() => ix.search(q, 1.5), IndexArgumentError);
  assert.throws(() => ix.search(q.subarray(0, d - 1), 3), /not a multiple of dim/);
  assert.throws(() => ix.search(q.subarray(0, d), 3, { leavesToSearch: 0 }), /leavesToSearch/);
  const nan = v.slice();
  nan[5] = NaN;
  assert.throws(() => ix.add([9_000_001, 9_000_002], nan), /non-finite/);
  const inf = v.slice();
  inf[d + 1] = Infinity;
  assert.throws(() => ix.update([ids[0]!, ids[1]!], inf), /non-finite/);
  assert.throws(() => ix.search(nan.subarray(0, d), 3), /non-finite/);
  assert.throws(() => ix.add([9_000_001, 9_000_001], v), /duplicate id/);
  assert.throws(() => ix.add([ids[0]!, 9_000_001], v), /already in the index/);
  assert.throws(() => ix.add([-1, 2], v), /not an integer/);
  assert.throws(() => ix.add([1], v), /1 ids for 2 vectors/);
  assert.throws(() => ix.remove([123_456_789]), /not in the index/);
  assert.throws(() => ix.update([123_456_789], v.subarray(0, d)), /not in the index/);
  assert.equal(ix.size, n);
  assert.throws(() => ScannIndex.build(nan, [1, 2], { dim: d }), /non-finite/);
  assert.throws(() => ScannIndex.build(v, [1, 2], { dim: d, quantize: { dimsPerBlock: 4 as 2 } }), /dimsPerBlock/);
  // Files: dimension mismatch, wrong kind, truncated, corrupt, missing.
  const path = join(tmp, 'rt.idx');
  assert.throws(() => ScannIndex.load(path, { expectDim: d + 1 }), /dimension 32 does not match the expected 33/);
  const fpath = join(tmp, 'flat.idx');
  flat.save(fpath);
  assert.throws(() => ScannIndex.load(fpath), (e: unknown) => e instanceof IndexFileError && /flat index, not a scann/.test(String(e)));
  const bytes = readFileSync(path);
  writeFileSync(join(tmp, 'trunc.idx'), bytes.subarray(0, bytes.length - 100));
  assert.throws(() => ScannIndex.load(join(tmp, 'trunc.idx')), (e: unknown) => e instanceof IndexFileError && /truncated|checksum/.test(String(e)));
  const bad = Buffer.from(bytes);
  bad[Math.floor(bad.length / 2)] ^= 0x40;
  writeFileSync(join(tmp, 'corrupt.idx'), bad);
  assert.throws(() => ScannIndex.load(join(tmp, 'corrupt.idx')), /checksum mismatch/);
  writeFileSync(join(tmp, 'junk.idx'), 'hello');
  assert.throws(() => ScannIndex.load(join(tmp, 'junk.idx')), /bad magic/);
  assert.throws(() => ScannIndex.load(join(tmp, 'missing.idx')), /cannot read/);
  // A failed save leaves no file and no temp file behind.
  assert.throws(() => ix.save(join(tmp, 'no-such-dir', 'x.idx')));
});
