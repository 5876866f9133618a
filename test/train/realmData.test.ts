/**
 * REALM data tests: the held-out document split (hash-based, rate within a binomial bound of the fraction; no
 * training example comes from a held-out document; heldout.json lists exactly the held-out blocks) and the seeded
 * epoch sampler (each epoch a permutation; seeking to a cursor reproduces the stream).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDocStore, DocStore } from '../../src/corpus/docstore.js';
import { EpochSampler, isHeldOut, splitHeldOut } from '../../src/train/realmData.js';

test('isHeldOut holds out about the requested fraction of document ids', () => {
  const n = 20000;
  let k = 0;
  for (let i = 0; i < n; i++) if (isHeldOut(`doc-${i}`, 0.1)) k++;
  const sd = Math.sqrt(n * 0.1 * 0.9);
  assert.ok(Math.abs(k - n * 0.1) < 5 * sd, `held out ${k} of ${n}`);
  assert.equal(isHeldOut('x', 0), false);
});

test('splitHeldOut: no training example from a held-out document; heldout.json lists the held-out blocks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-heldout-'));
  try {
    const blocks = Array.from({ length: 60 }, (_, i) => ({ docId: `d${Math.floor(i / 3)}`, title: 't', text: `block ${i}.`, start: 0, end: 9 }));
    await buildDocStore(join(dir, 's.docs'), blocks);
    const store = DocStore.open(join(dir, 's.docs'));
    const examples = Array.from({ length: 120 }, (_, i) => ({ inputIds: Int32Array.of(1), labels: Int32Array.of(1), sourceBlockId: i % 60 }));
    const train = splitHeldOut(examples, store, 0.3, dir);
    const info = JSON.parse(readFileSync(join(dir, 'heldout.json'), 'utf8')) as { docIds: string[]; blockIds: number[]; examples: number };
    const heldDocs = new Set(blocks.map((b) => b.docId).filter((d) => isHeldOut(d, 0.3)));
    assert.ok(heldDocs.size > 0 && heldDocs.size < 20);
    assert.deepEqual(new Set(info.docIds), heldDocs);
    assert.deepEqual(info.blockIds.sort((a, b) => a - b), blocks.map((b, i) => [b.docId, i] as const).filter(([d]) => heldDocs.has(d)).map(([, i]) => i));
    assert.ok(train.every((e) => !heldDocs.has(blocks[e.sourceBlockId!].docId)));
    assert.equal(train.length + info.examples, examples.length);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('EpochSampler: permutations per epoch, reproducible from a cursor', () => {
  const s = new EpochSampler(7, 3);
  const first = Array.from({ length: 14 }, () => s.next());
  assert.deepEqual([...first.slice(0, 7)].sort(), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...first.slice(7)].sort(), [0, 1, 2, 3, 4, 5, 6]);
  assert.notDeepEqual(first.slice(0, 7), first.slice(7));
  const t = new EpochSampler(7, 3);
  t.seek(1, 3);
  assert.deepEqual(Array.from({ length: 4 }, () => t.next()), first.slice(10, 14));
  assert.throws(() => t.seek(0, 8), /bad cursor/);
});
