/**
 * A model directory that names its knowledge corpus (`realm_corpus` in config.json, as the packaged default model
 * names WordNet) and ships no store/index: Realm.load cuts and embeds the corpus on first use into a cache keyed by
 * the vocabulary, block length and Embed_doc weights (inside the model directory when writable, else REALM_CACHE_DIR), with a progress line; the store
 * holds the same blocks as the trainer's store of the same corpus; the second load reuses the files; fill results
 * equal those of the same model with the trainer-built store and index.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Realm } from '../../src/api/realm.js';
import { corpusCacheFor, corpusFingerprint } from '../../src/api/corpusCache.js';
import { loadSafetensors, saveSafetensors, type ArrayToSave } from '../../src/io/safetensors.js';
import { makeTinyRealmModel } from '../train/helpers.js';

test('realm_corpus: store + index built on first use into the cache, reused later, same fill as the shipped store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-cache-'));
  const prev = process.env.REALM_CACHE_DIR;
  try {
    delete process.env.REALM_CACHE_DIR;
    const { modelDir, corpus } = await makeTinyRealmModel(dir, 1);
    const bare = join(dir, 'bare');
    cpSync(modelDir, bare, { recursive: true });
    rmSync(join(bare, 'blocks.docs'));
    rmSync(join(bare, 'index.bin'));
    const cfgPath = join(bare, 'config.json');
    writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), realm_corpus: corpus }));
    let log = '';
    const r1 = await Realm.load({ modelDir: bare, log: (l) => (log += l) });
    assert.match(log, /preparing the .* corpus: \d+ documents → \d+ blocks/);
    assert.match(log, /building the index: \d+\/\d+ blocks/);
    const blockLen = r1.model.opts.blockMaxLen;
    const cache = corpusCacheFor(bare, corpus, blockLen);
    assert.ok(cache.dir.startsWith(join(bare, 'corpus-cache')), cache.dir);
    assert.ok(cache.dir.endsWith(corpusFingerprint(bare, blockLen)));
    assert.notEqual(corpusFingerprint(bare, blockLen), corpusFingerprint(bare, blockLen + 1), 'the block length is part of the key');
    assert.ok(existsSync(cache.docs) && existsSync(cache.index));
    const ref = await Realm.load({ modelDir });
    assert.equal(r1.store.size, ref.store.size);
    for (let i = 0; i < ref.store.size; i++) assert.deepEqual(r1.store.get(i), ref.store.get(i));
    const text = 'Ada Lovelace was born in [MASK].';
    const [a, b] = [await r1.fill(text, { top: 3 }), await ref.fill(text, { top: 3 })];
    assert.deepEqual(a.predictions.map((p) => p.text), b.predictions.map((p) => p.text));
    a.predictions.forEach((p, i) => assert.ok(Math.abs(p.prob - b.predictions[i].prob) < 1e-5));
    assert.deepEqual(a.evidence.map((e) => e.blockId), b.evidence.map((e) => e.blockId));
    r1.close();
    ref.close();
    let log2 = '';
    const r2 = await Realm.load({ modelDir: bare, log: (l) => (log2 += l) });
    assert.equal(log2, '', 'second load builds nothing');
    r2.close();

    // read-only model directory: the cache goes to REALM_CACHE_DIR
    if (process.getuid?.() !== 0) {
      const ro = join(dir, 'ro');
      cpSync(bare, ro, { recursive: true });
      rmSync(join(ro, 'corpus-cache'), { recursive: true });
      chmodSync(ro, 0o555);
      process.env.REALM_CACHE_DIR = join(dir, 'user-cache');
      const r3 = await Realm.load({ modelDir: ro, log: () => {} });
      assert.equal(readdirSync(join(dir, 'user-cache')).length, 1);
      r3.close();
      chmodSync(ro, 0o755);
    }
    // the key follows Embed_doc only: a changed encoder tensor keeps it, a changed embedder tensor changes it
    const fp = corpusFingerprint(bare, blockLen);
    const st = loadSafetensors(join(bare, 'model.safetensors'));
    const rewrite = (prefix: string): string => {
      const other = join(dir, `w-${prefix}`);
      cpSync(bare, other, { recursive: true });
      const out = new Map<string, ArrayToSave>();
      let changed = false;
      for (const [n, t] of st.tensors) {
        const data = (t.data as Float32Array).slice();
        if (!changed && n.startsWith(prefix)) { data[0] += 0.5; changed = true; }
        out.set(n, { shape: t.shape, data });
      }
      saveSafetensors(join(other, 'model.safetensors'), out, st.metadata ?? undefined);
      return corpusFingerprint(other, blockLen);
    };
    assert.equal(rewrite('realm.'), fp);
    assert.equal(rewrite('query_embedder.'), fp);
    assert.notEqual(rewrite('embedder.'), fp);
    process.env.REALM_CACHE_DIR = join(dir, 'explicit');
    assert.ok(corpusCacheFor(bare, corpus, 48).dir.startsWith(join(dir, 'explicit')));
  } finally {
    if (prev === undefined) delete process.env.REALM_CACHE_DIR;
    else process.env.REALM_CACHE_DIR = prev;
    rmSync(dir, { recursive: true, force: true });
  }
});
