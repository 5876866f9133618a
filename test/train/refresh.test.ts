/**
 * Asynchronous index refresh tests (REALM §3.4): a worker thread re-embeds a small corpus with a snapshot of the
 * document embedder while the main thread keeps taking optimiser steps; the swapped-in index equals a synchronous
 * re-embed + build from the same snapshot (vectors bit-identical, same search results); deterministic swaps happen
 * exactly `lag` steps after the snapshot; a refresh in flight at checkpoint time is redone identically on restore.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDocStore, DocStore } from '../../src/corpus/docstore.js';
import { AdamW, Rng, backward, getBackend, mean, mul, nativeBackendOrNull, setBackend } from '../../src/engine/index.js';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { saveCheckpoint } from '../../src/io/checkpoint.js';
import { bertMiniConfig } from '../../src/model/config.js';
import { RealmScorer } from '../../src/retriever/scorer.js';
import { encodeQuery, packBatch } from '../../src/retriever/inputs.js';
import { IndexRefresher, type RefreshOptions } from '../../src/train/refresh.js';
import { refreshIndex, snapshotEmbedder, tokenizeBlocks, topkChurn } from '../../src/train/refreshJob.js';
import { writeTinyCorpus, TINY_MODEL } from './helpers.js';
import type { BertTokenizer } from '../../src/tokenizer/bertTokenizer.js';

const WORDS = ['born', 'worked', 'famous', 'statue', 'physics', 'London', 'Paris', 'years', 'many', 'remembers', 'work', 'chemistry'];

async function setup(dir: string, nBlocks: number) {
  const { vocab, tok } = await writeTinyCorpus(dir);
  const rng = new Rng(5);
  const blocks = Array.from({ length: nBlocks }, (_, i) => {
    const text = Array.from({ length: 20 + (i % 17) }, () => WORDS[rng.int(WORDS.length)]).join(' ');
    return { docId: `d${i}`, title: `Block ${i}`, text, start: 0, end: text.length };
  });
  const docs = join(dir, 'blocks.docs');
  await buildDocStore(docs, blocks);
  const cfg = bertMiniConfig({ ...TINY_MODEL, vocab_size: tok.vocabSize, pad_token_id: tok.padId });
  const scorer = new RealmScorer(cfg, new Rng(11));
  return { vocab, tok, docs, cfg, scorer, blocks };
}

/** A fake training step that changes both embedders: push query/doc vectors of a few texts together. */
function trainStep(scorer: RealmScorer, tok: BertTokenizer, opt: AdamW, i: number): void {
  const q = scorer.queryEmbedder.forward(packBatch([encodeQuery(tok, `Block ${i} physics`)], tok.padId), true);
  const d = scorer.docEmbedder.forward(packBatch([encodeQuery(tok, `worked in Paris ${i}`)], tok.padId), true);
  backward(mean(mul(q, d)));
  opt.step();
  opt.zeroGrad();
}

const OPTS: RefreshOptions = {
  every: 3, swap: 'deterministic', lag: 2, runner: 'thread', workerBackend: 'js', workerThreads: 1, indexKind: 'flat', flatMaxBlocks: 1000, batchSize: 16, churnK: 4,
};

test('refresh runs in a worker while steps continue; the swapped index equals a synchronous rebuild', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-refresh-'));
  const prev = getBackend();
  try {
    const { vocab, tok, docs, cfg, scorer } = await setup(dir, 300);
    const opt = new AdamW(scorer.parameters(), { lr: 1e-2 });
    const probes = new Rng(3).fillNormal(new Float32Array(8 * cfg.retriever_proj_size));
    const r = new IndexRefresher({
      docEmbedder: scorer.docEmbedder, vocabPath: vocab, docStorePath: docs, blockMaxLen: 64, dir: join(dir, 'index'),
      checkpointDir: null, probes: () => probes, log: () => {},
    }, OPTS);
    await r.start();
    await r.request(0, 0);
    await r.swapPending(); // initial index
    for (let i = 0; i < 2; i++) trainStep(scorer, tok, opt, i);
    const snapStep = 2;
    await r.request(snapStep, snapStep + 1);
    const snapshot = new Map([...scorer.docEmbedder.parameters()].map(([n, t]) => [n, t.data.slice()]));
    let stepsWhileRunning = 0;
    const pendingReady = () => (r as unknown as { pending: { ready: boolean } | null }).pending?.ready ?? true;
    while (!pendingReady()) {
      trainStep(scorer, tok, opt, 10 + stepsWhileRunning);
      stepsWhileRunning++;
      await new Promise((res) => setImmediate(res));
    }
    assert.ok(stepsWhileRunning >= 1, 'training steps ran while the worker re-embedded the corpus');
    const before = r.index!;
    await r.swapPending();
    assert.equal(r.indexId, 's0000002');
    assert.equal(r.staleness(snapStep + stepsWhileRunning), stepsWhileRunning);
    // the weights changed after the snapshot, but the index reflects the snapshot: compare with a synchronous rebuild
    for (const [n, t] of scorer.docEmbedder.parameters()) assert.notDeepEqual(t.data, snapshot.get(n), `${n} kept training`);
    setBackend('js');
    const ref = snapshotEmbedder(cfg);
    const params = ref.parameters();
    for (const [n, data] of snapshot) params.get(n.slice('embedder.'.length))!.data.set(data);
    const saved = loadSafetensors(join(dir, 'index', 'snapshot-s0000002.safetensors')).tensors;
    for (const [n, t] of params) assert.deepEqual(saved.get(n)!.data, t.data, `snapshot file holds ${n}`);
    const store = DocStore.open(docs);
    const seqs = tokenizeBlocks(tok, store.getMany(Int32Array.from({ length: store.size }, (_, i) => i)), 64);
    store.close();
    const sync = refreshIndex(ref, seqs, tok.padId, OPTS.batchSize, { kind: 'flat', flatMaxBlocks: 1000 });
    setBackend(prev);
    assert.deepEqual(r.vectors, sync.vectors, 'worker vectors are bit-identical to the synchronous re-embed');
    const qs = new Rng(9).fillNormal(new Float32Array(5 * cfg.retriever_proj_size));
    assert.deepEqual(r.index!.search(qs, 10), sync.index.search(qs, 10));
    // churn is measured against the previous index with the fixed probes
    assert.equal(r.lastChurn, topkChurn(before, r.index!, probes, 4));
    await r.close();
  } finally {
    setBackend(prev);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deterministic swaps land lag steps after the snapshot; a refresh in flight is redone identically on restore', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-refresh2-'));
  try {
    const { vocab, tok, docs, scorer } = await setup(dir, 40);
    const opt = new AdamW(scorer.parameters(), { lr: 1e-2 });
    const mk = () => new IndexRefresher({
      docEmbedder: scorer.docEmbedder, vocabPath: vocab, docStorePath: docs, blockMaxLen: 64, dir: join(dir, 'index'),
      checkpointDir: join(dir, 'ck'), probes: null, log: () => {},
    }, OPTS);
    const r = mk();
    await r.request(0, 0);
    await r.swapPending();
    const ids: Array<string | null> = [];
    let saved: ReturnType<IndexRefresher['checkpointState']> | null = null;
    for (let s = 0; s < 8; s++) {
      await r.beforeStep(s);
      ids.push(r.indexId);
      trainStep(scorer, tok, opt, s);
      await r.afterStep(s + 1);
      if (s + 1 === 7) {
        // snapshot at 6, swap due before step 8: checkpoint now (as the trainer does) so its files are kept
        saved = r.checkpointState();
        saveCheckpoint(join(dir, 'ck'), {
          model: new Map(), config: {},
          state: { step: 7, rngState: [1, 2, 3, 4], optimizer: {}, schedule: {}, indexSnapshotId: saved.indexSnapshotId, extra: { task: saved.extra } },
        });
      }
    }
    // snapshot after 3 steps → in use from step 5; after 6 → from step 8
    assert.deepEqual(ids, ['s0000000', 's0000000', 's0000000', 's0000000', 's0000000', 's0000003', 's0000003', 's0000003']);
    assert.deepEqual((saved!.extra.pending as { snapshotId: string }).snapshotId, 's0000006');
    await r.beforeStep(8);
    assert.equal(r.indexId, 's0000006');
    const vectorsLive = r.vectors!.slice();
    await r.close();
    // a fresh refresher restored from the step-7 state redoes the in-flight refresh from the saved snapshot
    const r2 = mk();
    await r2.restore(saved!.indexSnapshotId, saved!.extra);
    assert.equal(r2.indexId, 's0000003');
    await r2.beforeStep(8);
    assert.equal(r2.indexId, 's0000006');
    assert.deepEqual(r2.vectors, vectorsLive);
    await r2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('process runner: a child process with its own native pool builds the same index as a synchronous rebuild', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-refresh3-'));
  const prev = getBackend();
  const prevThreads = prev.getThreads();
  try {
    const { vocab, tok, docs, cfg, scorer } = await setup(dir, 120);
    const r = new IndexRefresher({
      docEmbedder: scorer.docEmbedder, vocabPath: vocab, docStorePath: docs, blockMaxLen: 64, dir: join(dir, 'index'),
      checkpointDir: null, probes: null, log: () => {},
    }, { ...OPTS, runner: 'process', workerBackend: 'native', workerThreads: 1 });
    await r.request(4, 5);
    const snapshot = new Map([...scorer.docEmbedder.parameters()].map(([n, t]) => [n.slice('embedder.'.length), t.data.slice()]));
    await r.beforeStep(5);
    assert.equal(r.indexId, 's0000004');
    // reference on the same backend with one GEMM thread, like the child
    const native = nativeBackendOrNull();
    setBackend(native ?? 'js');
    getBackend().setThreads(1);
    const ref = snapshotEmbedder(cfg);
    for (const [n, t] of ref.parameters()) t.data.set(snapshot.get(n)!);
    const store = DocStore.open(docs);
    const seqs = tokenizeBlocks(tok, store.getMany(Int32Array.from({ length: store.size }, (_, i) => i)), 64);
    store.close();
    const sync = refreshIndex(ref, seqs, tok.padId, OPTS.batchSize, { kind: 'flat', flatMaxBlocks: 1000 });
    assert.deepEqual(r.vectors, sync.vectors);
    const qs = new Rng(2).fillNormal(new Float32Array(4 * cfg.retriever_proj_size));
    assert.deepEqual(r.index!.search(qs, 5), sync.index.search(qs, 5));
    await r.close();
  } finally {
    setBackend(prev);
    prev.setThreads(prevThreads);
    rmSync(dir, { recursive: true, force: true });
  }
});
