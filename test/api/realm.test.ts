/**
 * Library API tests: Realm.load on a model directory made by a tiny REALM run; fill's evidence equals brute-force
 * maximum inner product search over freshly embedded blocks, and its retrieval probabilities equal the softmax of
 * [null score, q·d_z] computed by hand; predictions are sorted probabilities; a missing index is built on first use
 * and saved; clear errors for a missing default model, a missing store and text without [MASK].
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad } from '../../src/engine/index.js';
import { FillInputError, Realm } from '../../src/api/realm.js';
import { ModelDirError } from '../../src/api/modelDir.js';
import { encodeBlock, encodeQuery, packBatch } from '../../src/retriever/inputs.js';
import { makeTinyRealmModel } from '../train/helpers.js';

test('Realm.load + fill: evidence = brute-force MIPS, p(z|x) = softmax of recomputed scores; index built on first use', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-api-'));
  try {
    const { modelDir } = await makeTinyRealmModel(dir);
    const realm = await Realm.load({ modelDir });
    const text = 'Ada Lovelace was born in [MASK].';
    const r = await realm.fill(text, { top: 3 });
    assert.equal(r.predictions.length, 3);
    for (let i = 0; i < 3; i++) {
      assert.ok(r.predictions[i].prob > 0 && r.predictions[i].prob <= 1);
      if (i > 0) assert.ok(r.predictions[i].prob <= r.predictions[i - 1].prob);
      assert.ok(!r.predictions[i].text.includes('[MASK]'));
    }
    // reference: embed the query and every block, exact top-2 by inner product, softmax with the null score
    const { model, tokenizer: tok, store } = realm;
    const n = store.size;
    const blocks = store.getMany(Int32Array.from({ length: n }, (_, i) => i));
    const P = model.cfg.retriever_proj_size;
    const q = noGrad(() => model.queryEmbedder.forward(packBatch([encodeQuery(tok, text, model.opts.queryMaxLen)], tok.padId), false)).data;
    const scores = blocks.map((b) => {
      const d = noGrad(() => model.docEmbedder.forward(packBatch([encodeBlock(tok, b.title, b.text, model.opts.blockMaxLen)], tok.padId), false)).data;
      let s = 0;
      for (let c = 0; c < P; c++) s += q[c] * d[c];
      return s;
    });
    const top = scores.map((s, i) => [s, i]).sort((a, b) => b[0] - a[0]).slice(0, 2).map((x) => x[1]);
    assert.deepEqual(r.evidence.map((e) => e.blockId).sort(), [...top].sort());
    const logits = [model.nullScore.data[0], ...top.map((i) => scores[i])];
    const mx = Math.max(...logits);
    const z = logits.reduce((s, l) => s + Math.exp(l - mx), 0);
    const pz = logits.map((l) => Math.exp(l - mx) / z);
    assert.ok(Math.abs(r.nullProb - pz[0]) < 1e-5, `null prob ${r.nullProb} vs ${pz[0]}`);
    for (const e of r.evidence) {
      const j = top.indexOf(e.blockId);
      assert.ok(Math.abs(e.prob - pz[j + 1]) < 1e-5, `p(z|x) of block ${e.blockId}: ${e.prob} vs ${pz[j + 1]}`);
      assert.equal(e.title, blocks[e.blockId].title);
      assert.equal(e.text, blocks[e.blockId].text);
    }
    const support = r.evidence.reduce((a, e) => a + e.support, r.nullSupport);
    assert.ok(Math.abs(support - 1) < 1e-5, `p(z|x,ŷ) over the passages and the null document sums to ${support}`);
    await assert.rejects(realm.fill('no mask here'), FillInputError);
    realm.close();

    // a copy without index.bin: the index is built (with progress) and saved on first use, same results
    const copy = join(dir, 'copy');
    cpSync(modelDir, copy, { recursive: true });
    rmSync(join(copy, 'index.bin'));
    let progress = '';
    const realm2 = await Realm.load({ modelDir: copy, log: (l) => (progress += l) });
    assert.match(progress, /building the index: \d+\/\d+ blocks/);
    assert.ok(existsSync(join(copy, 'index.bin')));
    const r2 = await realm2.fill(text, { top: 3 });
    assert.deepEqual(r2.predictions.map((p) => p.text), r.predictions.map((p) => p.text));
    r2.predictions.forEach((p, i) => assert.ok(Math.abs(p.prob - r.predictions[i].prob) < 1e-5));
    realm2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Realm.load errors: default model absent, missing directory, missing store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-api-err-'));
  const prev = process.env.REALM_MODEL_DIR;
  try {
    process.env.REALM_MODEL_DIR = join(dir, 'nope');
    await assert.rejects(Realm.load(), (e: Error) => e instanceof ModelDirError && /default model is not installed/.test(e.message));
    delete process.env.REALM_MODEL_DIR;
    await assert.rejects(Realm.load({ modelDir: join(dir, 'missing') }), /does not exist/);
    const { modelDir } = await makeTinyRealmModel(dir, 1);
    await assert.rejects(Realm.load({ modelDir, corpus: join(dir, 'none.docs') }), /document store .*none\.docs not found/);
  } finally {
    if (prev === undefined) delete process.env.REALM_MODEL_DIR;
    else process.env.REALM_MODEL_DIR = prev;
    rmSync(dir, { recursive: true, force: true });
  }
});
