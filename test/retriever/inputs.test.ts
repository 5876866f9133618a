/**
 * Retriever input tests: `[CLS] a [SEP] b [SEP]` joining with segment ids and truncation (second segment first),
 * agreement with BertTokenizer's own pair encoding on a hand vocabulary, padding, and length-sorted batching checked
 * against its constraints (every position exactly once, batch and token limits, sorted lengths).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BertTokenizer } from '../../src/tokenizer/bertTokenizer.js';
import { encodeBlock, encodeQuery, joinIds, lengthSortedBatches, packBatch } from '../../src/retriever/inputs.js';
import { Rng } from '../../src/engine/index.js';

const tok = { clsId: 2, sepId: 3, padId: 0, encodeSequence: (s: string) => ({ ids: s.split(' ').filter(Boolean).map(Number) }) };

test('joinIds builds [CLS] a [SEP] b [SEP] with segment ids and truncates b, then a', () => {
  const s = joinIds(tok, [10, 11], [20, 21, 22], 100);
  assert.deepEqual(Array.from(s.ids), [2, 10, 11, 3, 20, 21, 22, 3]);
  assert.deepEqual(Array.from(s.types), [0, 0, 0, 0, 1, 1, 1, 1]);
  const t = joinIds(tok, [10, 11], [20, 21, 22], 6);
  assert.deepEqual(Array.from(t.ids), [2, 10, 11, 3, 20, 3]);
  const u = joinIds(tok, [10, 11, 12, 13], [20], 5);
  assert.deepEqual(Array.from(u.ids), [2, 10, 11, 3, 3]);
  const q = joinIds(tok, [5, 6, 7, 8], null, 4);
  assert.deepEqual(Array.from(q.ids), [2, 5, 6, 3]);
  assert.throws(() => joinIds(tok, [1], [2], 3), /maxLen 3/);
});

test('encodeBlock / encodeQuery agree with BertTokenizer pair encoding', () => {
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'mat', '.', 'cats', '##s', 'a'];
  const bt = BertTokenizer.fromVocab(vocab);
  const b = encodeBlock(bt, 'Cats', 'The cat sat on the mat.', 288);
  const ref = bt.encode('Cats', 'The cat sat on the mat.');
  assert.deepEqual(Array.from(b.ids), Array.from(ref.inputIds));
  assert.deepEqual(Array.from(b.types), Array.from(ref.tokenTypeIds));
  const q = encodeQuery(bt, 'the cat sat', 64);
  assert.deepEqual(Array.from(q.ids), Array.from(bt.encode('the cat sat').inputIds));
});

test('packBatch right-pads with the pad id and masks padding', () => {
  const x = packBatch([joinIds(tok, [7], null, 10), joinIds(tok, [7, 8], [9], 10)], 0);
  assert.equal(x.batch, 2);
  assert.equal(x.seqLen, 6);
  assert.deepEqual(Array.from(x.inputIds), [2, 7, 3, 0, 0, 0, 2, 7, 8, 3, 9, 3]);
  assert.deepEqual(Array.from(x.attentionMask!), [1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(x.tokenTypeIds!), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
  assert.throws(() => packBatch([], 0), /empty/);
  // nothing padded: no mask (BERT then skips the additive-bias pass; absent = all ones)
  const full = packBatch([joinIds(tok, [7, 8], null, 10), joinIds(tok, [9, 7], null, 10)], 0);
  assert.equal(full.attentionMask, undefined);
  assert.deepEqual(Array.from(full.inputIds), [2, 7, 8, 3, 2, 9, 7, 3]);
});

test('lengthSortedBatches covers every position once within the batch and token limits', () => {
  const rng = new Rng(3);
  const lengths = Array.from({ length: 500 }, () => 3 + Math.floor(rng.random() * 200));
  const batches = lengthSortedBatches(lengths, 16, 1000);
  const seen = new Array(lengths.length).fill(0);
  let prevMax = 0;
  for (const b of batches) {
    assert.ok(b.length >= 1 && b.length <= 16);
    const m = Math.max(...b.map((i) => lengths[i]));
    assert.ok(b.length === 1 || m * b.length <= 1000, `batch of ${b.length} x ${m} tokens`);
    assert.ok(Math.min(...b.map((i) => lengths[i])) >= prevMax, 'batches follow length order');
    prevMax = m;
    for (const i of b) seen[i]++;
  }
  assert.ok(seen.every((c) => c === 1));
});
