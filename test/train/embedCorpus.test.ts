/**
 * Corpus embedding job tests: batched, length-sorted, padded encoding equals embedding each block alone; a job
 * killed after its first committed chunk resumes and embeds only the rest (same vectors); changed weights invalidate
 * committed chunks; the index built from the vectors returns the brute-force top-k; `reembedBlocks` refreshes a set
 * of ids in the index after the document embedder changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/engine/index.js';
import { bertMiniConfig } from '../../src/model/config.js';
import { RealmEmbedder } from '../../src/model/embedder.js';
import { encodeBlock, packBatch } from '../../src/retriever/inputs.js';
import { buildIndex, embedCorpus, readEmbeddings, reembedBlocks, weightsFingerprint, type BlockSource } from '../../src/train/embedCorpus.js';
import { FlatIndex } from '../../src/index/flat.js';

const tok = {
  clsId: 2, sepId: 3, padId: 0,
  encodeSequence: (s: string) => ({ ids: s.split(/\s+/).filter(Boolean).map((w) => 5 + (w.length * 7 + w.charCodeAt(0)) % 40) }),
};

function source(n: number, seed: number): BlockSource & { blocks: { title: string; text: string }[] } {
  const rng = new Rng(seed);
  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda', 'mu'];
  const blocks = Array.from({ length: n }, (_, i) => ({
    title: `doc ${words[i % words.length]}`,
    text: Array.from({ length: 1 + Math.floor(rng.random() * 25) }, () => words[Math.floor(rng.random() * words.length)]).join(' '),
  }));
  return { blocks, size: n, getMany: (ids) => Array.from(ids, (i) => blocks[i]) };
}

function embedder(seed: number): RealmEmbedder {
  const cfg = bertMiniConfig({
    vocab_size: 50, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32,
    retriever_proj_size: 8, max_position_embeddings: 64, pad_token_id: 0,
  });
  const e = new RealmEmbedder(cfg, new Rng(seed));
  const rng = new Rng(seed + 1);
  for (const [name, t] of e.parameters()) if (!name.includes('LayerNorm')) rng.fillNormal(t.data, 0, 0.3);
  return e;
}

const quiet = { log: () => {}, blockLen: 32 };

test('batched job equals embedding each block alone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'embed-'));
  try {
    const src = source(37, 1);
    const e = embedder(2);
    const r = embedCorpus(e, tok, src, { ...quiet, outDir: dir, chunkSize: 10, batchSize: 6 });
    assert.equal(r.embeddedNow, 37);
    assert.equal(r.vectors.length, 37 * 8);
    for (let i = 0; i < 37; i++) {
      const one = e.embed(packBatch([encodeBlock(tok, src.blocks[i].title, src.blocks[i].text, 32)], 0));
      for (let k = 0; k < 8; k++) assert.ok(Math.abs(one[k] - r.vectors[i * 8 + k]) < 1e-4, `block ${i} dim ${k}`);
    }
    assert.equal(readdirSync(dir).filter((f) => f.startsWith('chunk-')).length, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a job killed after its first chunk resumes with the rest; new weights start over', () => {
  const dir = mkdtempSync(join(tmpdir(), 'embed-'));
  try {
    const src = source(25, 3);
    const e = embedder(4);
    let lines = 0;
    assert.throws(() => embedCorpus(e, tok, src, {
      outDir: dir, chunkSize: 8, batchSize: 4, blockLen: 32, progressEvery: 0,
      log: () => { if (++lines === 1) throw new Error('killed'); },
    }), /killed/);
    assert.equal(readdirSync(dir).filter((f) => f.startsWith('chunk-')).length, 1);
    const resumed = embedCorpus(e, tok, src, { ...quiet, outDir: dir, chunkSize: 8, batchSize: 4 });
    assert.equal(resumed.embeddedNow, 25 - 8);
    const fresh = embedCorpus(e, tok, src, { ...quiet, outDir: mkdtempSync(join(tmpdir(), 'embed-')), chunkSize: 8, batchSize: 4 });
    assert.deepEqual(Array.from(resumed.vectors), Array.from(fresh.vectors));
    const again = embedCorpus(e, tok, src, { ...quiet, outDir: dir, chunkSize: 8, batchSize: 4 });
    assert.equal(again.embeddedNow, 0);
    const before = weightsFingerprint(e);
    e.store.get('cls.dense.bias').data[0] += 0.5;
    assert.notEqual(weightsFingerprint(e), before);
    const changed = embedCorpus(e, tok, src, { ...quiet, outDir: dir, chunkSize: 8, batchSize: 4 });
    assert.equal(changed.embeddedNow, 25);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('index from the job matches brute force; reembedBlocks refreshes ids after the embedder changes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'embed-'));
  try {
    const src = source(40, 5);
    const e = embedder(6);
    const r = embedCorpus(e, tok, src, { ...quiet, outDir: dir, chunkSize: 16, batchSize: 8 });
    const index = buildIndex(r.vectors, r.dim, { kind: 'auto' });
    assert.ok(index instanceof FlatIndex);
    const q = r.vectors.slice(3 * 8, 4 * 8);
    const brute = Array.from({ length: 40 }, (_, i) => {
      let s = 0;
      for (let k = 0; k < 8; k++) s += q[k] * r.vectors[i * 8 + k];
      return [i, s] as const;
    }).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([i]) => i);
    assert.deepEqual(Array.from(index.search(q, 5).ids), brute);
    // the document embedder trains: refresh ids 0..9 only
    e.store.get('cls.dense.weight').data.forEach((v, i, a) => { a[i] = v * -1.5; });
    const ids = Array.from({ length: 10 }, (_, i) => i);
    const v = reembedBlocks(e, tok, src, ids, index, { blockLen: 32 });
    const expected = embedCorpus(e, tok, src, { ...quiet, outDir: join(dir, 'new'), chunkSize: 64, batchSize: 8 }).vectors;
    for (let i = 0; i < 10 * 8; i++) assert.ok(Math.abs(v[i] - expected[i]) < 1e-5);
    // the refreshed ids now score with their new vectors: compare a direct inner product
    const q0 = expected.slice(0, 8);
    const res = index.search(q0, 40);
    const pos = Array.from(res.ids).indexOf(0);
    let s00 = 0;
    for (let k = 0; k < 8; k++) s00 += q0[k] * q0[k];
    assert.ok(Math.abs(res.scores[pos] - s00) < 1e-4);
    assert.throws(() => reembedBlocks(e, tok, src, [40], index), /out of range/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readEmbeddings returns a finished job\'s vectors, and refuses another embedder\'s or an unfinished directory without deleting anything', () => {
  const dir = mkdtempSync(join(tmpdir(), 'embed-'));
  try {
    const src = source(21, 7);
    const e = embedder(8);
    const r = embedCorpus(e, tok, src, { ...quiet, outDir: dir, chunkSize: 8, batchSize: 4 });
    const read = readEmbeddings(dir, weightsFingerprint(e));
    assert.deepEqual([read.numBlocks, read.dim, read.blockLen], [21, 8, 32]);
    assert.deepEqual(Array.from(read.vectors), Array.from(r.vectors));
    assert.throws(() => readEmbeddings(dir, 'deadbeef'), /vectors of embedder .* not deadbeef/);
    assert.equal(readdirSync(dir).filter((f) => f.startsWith('chunk-')).length, 3, 'a refused read deletes nothing');
    unlinkSync(join(dir, 'chunk-000001.f32'));
    assert.throws(() => readEmbeddings(dir, weightsFingerprint(e)), /incomplete \(1 of 3 chunks missing/);
    assert.throws(() => readEmbeddings(join(dir, 'nope'), weightsFingerprint(e)), /no manifest\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
