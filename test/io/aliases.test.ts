// Tests of src/io/aliases.ts: restoring tied weights (from the metadata torch's save_model writes, and from REALM's
// well-known ties) and matching a state dict against a model like torch's load_state_dict(strict).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  assignTensors, mlmTiedAliases, REALM_SCORER_ALIASES, resolveAliases,
} from '../../src/io/aliases.js';
import { loadSafetensors, parseSafetensors, safetensorsToBytes, type NamedArrays } from '../../src/io/safetensors.js';
import { CheckpointError } from '../../src/io/errors.js';

const FIX = new URL('../fixtures/io/', import.meta.url).pathname;

test('aliases recorded by torch save_model are restored as the same array', () => {
  const loaded = loadSafetensors(join(FIX, 'shared.safetensors'));
  assert.deepEqual([...loaded.tensors.keys()].sort(), ['bias', 'decoder.weight']);
  const all = resolveAliases(loaded);
  assert.deepEqual([...all.keys()].sort(), ['bias', 'decoder.bias', 'decoder.weight', 'word_embeddings.weight']);
  assert.equal(all.get('word_embeddings.weight')!.data, all.get('decoder.weight')!.data);
  assert.equal(all.get('decoder.bias')!.data, all.get('bias')!.data);
  assert.deepEqual(all.get('word_embeddings.weight')!.shape, [6, 4]);
});

test('our own tied writes round-trip through metadata', () => {
  const w = new Float32Array([1, 2, 3, 4]);
  const back = parseSafetensors(safetensorsToBytes(new Map([
    ['x.weight', { shape: [2, 2], data: w }], ['y.weight', { shape: [2, 2], data: w }],
  ])));
  const all = resolveAliases(back);
  assert.equal(all.get('x.weight')!.data, all.get('y.weight')!.data);
  assert.deepEqual(Array.from(all.get('y.weight')!.data), [1, 2, 3, 4]);
});

function named(entries: [string, number[]][]): NamedArrays {
  return new Map(entries.map(([n, shape]) => [n, {
    dtype: 'F32' as const, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(n.length),
  }]));
}

test('well-known REALM ties fill the names an HF save_pretrained file omits (both directions, chained)', () => {
  // HF's file for RealmKnowledgeAugEncoder keeps the embeddings and cls.predictions.bias only
  const enc = resolveAliases({ tensors: named([['realm.embeddings.word_embeddings.weight', [5, 2]], ['cls.predictions.bias', [5]]]) },
    mlmTiedAliases('realm'));
  assert.equal(enc.get('cls.predictions.decoder.weight')!.data, enc.get('realm.embeddings.word_embeddings.weight')!.data);
  assert.equal(enc.get('cls.predictions.decoder.bias')!.data, enc.get('cls.predictions.bias')!.data);
  const rev = resolveAliases({ tensors: named([['cls.predictions.decoder.weight', [5, 2]]]) }, mlmTiedAliases('bert'));
  assert.ok(rev.has('bert.embeddings.word_embeddings.weight'));
  // RealmScorer: query_embedder.* mirrors embedder.*; an existing tensor is never overwritten
  const sc = resolveAliases({ tensors: named([['embedder.realm.pooler.dense.weight', [2, 2]], ['embedder.cls.dense.bias', [3]], ['query_embedder.cls.dense.bias', [3]]]) },
    REALM_SCORER_ALIASES);
  assert.equal(sc.get('query_embedder.realm.pooler.dense.weight')!.data, sc.get('embedder.realm.pooler.dense.weight')!.data);
  assert.notEqual(sc.get('query_embedder.cls.dense.bias')!.data, sc.get('embedder.cls.dense.bias')!.data);
  assert.equal(sc.size, 4);
});

test('assignTensors: exact match, missing, unexpected, shape mismatch, strict flag', () => {
  const loaded = named([['a', [2, 3]], ['b', [4]], ['extra', [1]]]);
  const expected = new Map<string, number[]>([['a', [2, 3]], ['b', [4]], ['c', [7]]]);
  const loose = assignTensors(expected, loaded, { strict: false });
  assert.deepEqual([...loose.tensors.keys()], ['a', 'b']);
  assert.equal(loose.tensors.get('a')!.data, loaded.get('a')!.data);
  assert.deepEqual(loose.missing, ['c']);
  assert.deepEqual(loose.unexpected, ['extra']);
  assert.throws(() => assignTensors(expected, loaded, { file: 'm.safetensors' }), (e: unknown) =>
    e instanceof CheckpointError && e.file === 'm.safetensors'
    && /missing tensors: c; unexpected tensors: extra/.test(e.message));
  const one = new Map<string, number[]>([['a', [2, 3]], ['b', [4]], ['extra', [1]], ['c', [7]]]);
  assert.throws(() => assignTensors(one, loaded), (e: unknown) => e instanceof CheckpointError && e.tensor === 'c');
  const bad = new Map<string, number[]>([['a', [3, 2]], ['b', [4]], ['extra', [1]]]);
  for (const strict of [true, false]) {
    assert.throws(() => assignTensors(bad, loaded, { strict }), (e: unknown) =>
      e instanceof CheckpointError && e.tensor === 'a' && /shape mismatch: a \(expected \[3,2\], file has \[2,3\]\)/.test(e.message));
  }
  const ok = assignTensors(new Map([['a', [2, 3]], ['b', [4]], ['extra', [1]]]), loaded);
  assert.equal(ok.tensors.size, 3);
});

test('assignTensors reports a real file by its path', () => {
  const loaded = loadSafetensors(join(FIX, 'shared.safetensors'));
  const expected = new Map<string, number[]>([['decoder.weight', [6, 4]], ['bias', [6]], ['word_embeddings.weight', [6, 4]]]);
  assert.throws(() => assignTensors(expected, loaded), (e: unknown) =>
    e instanceof CheckpointError && e.file.endsWith('shared.safetensors') && e.tensor === 'word_embeddings.weight');
  expected.set('decoder.bias', [6]);
  assert.equal(assignTensors(expected, resolveAliases(loaded), { file: loaded.path }).tensors.size, 4);
});
