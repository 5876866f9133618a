/**
 * REALM pre-training through the config-driven runner (Guu et al. 2020 §3.4) on a tiny corpus and model: blocks,
 * salient-span examples, retrieval with the index refreshed in a worker, JSONL metrics with p(z|x), staleness and
 * churn; the exported model directory loads in the library API; and a run stopped with a refresh in flight resumes
 * to the same final weights as an uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { MetricsLog } from '../../src/train/metricsLog.js';
import { parsePretrainConfig } from '../../src/train/pretrainConfig.js';
import { runPretrain } from '../../src/train/pretrain.js';
import { TINY_MODEL, tinyRealmConfig, writeTinyCorpus } from './helpers.js';

test('REALM pre-training runs with asynchronous refresh, logs retrieval metrics and exports a model directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-task-'));
  try {
    const { corpus, vocab } = await writeTinyCorpus(dir);
    const out = join(dir, 'out');
    const r = await runPretrain(parsePretrainConfig(tinyRealmConfig(corpus, vocab, out), 'test', dir));
    assert.equal(r.step, 8);
    const recs = MetricsLog.read(join(out, 'metrics.jsonl'));
    assert.equal(recs.length, 8);
    for (const x of recs) {
      assert.ok(Number.isFinite(x.loss) && (x.loss as number) > 0);
      assert.ok((x.topDocProb as number) > 0 && (x.topDocProb as number) < 1);
      assert.ok((x.nullProb as number) > 0 && (x.nullProb as number) < 1);
    }
    // snapshot after 3 steps is used from step 5 (0-based 4): records are logged after the step completes
    assert.deepEqual(recs.map((x) => x.indexSnapshot), ['s0000000', 's0000000', 's0000000', 's0000000', 's0000003', 's0000003', 's0000003', 's0000006']);
    assert.deepEqual(recs.map((x) => x.indexStaleness), [1, 2, 3, 4, 2, 3, 4, 2]);
    assert.ok(recs.slice(4).every((x) => typeof x.topkChurn === 'number' && x.topkChurn >= 0 && x.topkChurn <= 1));
    for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'blocks.docs', 'index.bin']) assert.ok(existsSync(join(out, 'model', f)), f);
    // old index snapshots are pruned: only those referenced by the in-use index or kept checkpoints remain
    assert.ok(readdirSync(join(out, 'index')).length <= 6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('REALM: stop with a refresh in flight, resume → identical to an uninterrupted run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-task-resume-'));
  try {
    const { corpus, vocab } = await writeTinyCorpus(dir);
    const a = parsePretrainConfig(tinyRealmConfig(corpus, vocab, join(dir, 'A')), 'a', dir);
    const b = parsePretrainConfig(tinyRealmConfig(corpus, vocab, join(dir, 'B')), 'b', dir);
    // checkpoint at 4 carries the pending snapshot taken after step 3 (swap due before step 5)
    const first = await runPretrain(a, { stopAfter: 4 });
    assert.equal(first.step, 4);
    const resumed = await runPretrain(a);
    assert.equal(resumed.resumedFrom, 4);
    await runPretrain(b);
    const ra = MetricsLog.read(join(dir, 'A', 'metrics.jsonl'));
    const rb = MetricsLog.read(join(dir, 'B', 'metrics.jsonl'));
    assert.deepEqual(ra.map((x) => [x.step, x.loss, x.indexSnapshot]), rb.map((x) => [x.step, x.loss, x.indexSnapshot]));
    const wa = loadSafetensors(join(dir, 'A', 'model', 'model.safetensors')).tensors;
    const wb = loadSafetensors(join(dir, 'B', 'model', 'model.safetensors')).tensors;
    for (const [n, t] of wa) assert.deepEqual(t.data, wb.get(n)!.data, n);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('warm starts: an MLM BERT initialises the encoder and both embedder trunks; an ICT scorer the embedders', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-warm-'));
  try {
    const { corpus, vocab } = await writeTinyCorpus(dir);
    const mlm = await runPretrain(parsePretrainConfig({
      task: 'mlm', seed: 5, outputDir: join(dir, 'mlm'), threads: 1, model: { vocab, config: TINY_MODEL },
      data: { corpus, seqLen: 24 }, optim: { steps: 2, batchSize: 2, warmupSteps: 0 }, log: { quiet: true },
    }, 'mlm', dir));
    const bert = loadSafetensors(join(mlm.modelDir!, 'model.safetensors')).tensors;
    // an ICT-style scorer file: take a REALM export's embedders
    const donor = await runPretrain(parsePretrainConfig({ ...tinyRealmConfig(corpus, vocab, join(dir, 'donor'), 1), seed: 99 }, 'donor', dir));
    const cfg = parsePretrainConfig({ ...tinyRealmConfig(corpus, vocab, join(dir, 'r'), 1), model: { vocab, config: TINY_MODEL, init: mlm.modelDir, retrieverInit: join(donor.modelDir!, 'model.safetensors') } }, 'r', dir);
    const { buildRealmTask } = await import('../../src/train/realmTask.js');
    const built = await buildRealmTask(cfg, () => {});
    const w = built.task.model.stateDict();
    const donorW = loadSafetensors(join(donor.modelDir!, 'model.safetensors')).tensors;
    const q = 'encoder.layer.0.attention.self.query.weight';
    assert.deepEqual(w.get(`realm.${q}`)!.data, bert.get(`bert.${q}`)!.data, 'encoder from the MLM BERT');
    assert.deepEqual(w.get('cls.predictions.transform.dense.weight')!.data, bert.get('cls.predictions.transform.dense.weight')!.data);
    for (const side of ['embedder.', 'query_embedder.']) {
      assert.deepEqual(w.get(`${side}realm.${q}`)!.data, donorW.get(`${side}realm.${q}`)!.data, `${side} from the retriever file (applied last)`);
      assert.deepEqual(w.get(`${side}cls.dense.weight`)!.data, donorW.get(`${side}cls.dense.weight`)!.data);
    }
    await built.task.close?.();
    // without a retriever file the embedder trunks start from the MLM BERT too (REALM §3.4)
    const cfg2 = parsePretrainConfig({ ...tinyRealmConfig(corpus, vocab, join(dir, 'r2'), 1), model: { vocab, config: TINY_MODEL, init: mlm.modelDir } }, 'r2', dir);
    const built2 = await buildRealmTask(cfg2, () => {});
    const w2 = built2.task.model.stateDict();
    for (const side of ['', 'embedder.', 'query_embedder.']) assert.deepEqual(w2.get(`${side}realm.${q}`)!.data, bert.get(`bert.${q}`)!.data, `${side}realm from the MLM BERT`);
    await built2.task.close?.();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deeper reader (reader_num_hidden_layers): a REALM file with it loads every layer, a shallower config warns about the unused ones, an MLM BERT file warns about the layers it cannot fill', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-deep-'));
  try {
    const { corpus, vocab } = await writeTinyCorpus(dir);
    const deepModel = { ...TINY_MODEL, reader_num_hidden_layers: 2 };
    const donor = await runPretrain(parsePretrainConfig({ ...tinyRealmConfig(corpus, vocab, join(dir, 'donor'), 1), model: { vocab, config: deepModel } }, 'donor', dir));
    const donorW = loadSafetensors(join(donor.modelDir!, 'model.safetensors')).tensors;
    const layer1 = 'realm.encoder.layer.1.output.dense.weight';
    assert.ok(donorW.has(layer1) && !donorW.has('embedder.realm.encoder.layer.1.output.dense.weight'), 'the donor reader has 2 layers, its embedders 1');
    const { buildRealmTask } = await import('../../src/train/realmTask.js');
    for (const [name, config, expectWarning] of [['same', deepModel, null], ['shallow', TINY_MODEL, /warning: \d+ tensors of .* are not in the model and were not used \(realm\.encoder\.layer\.1\./]] as const) {
      const logs: string[] = [];
      const init = join(donor.modelDir!, 'model.safetensors');
      const built = await buildRealmTask(parsePretrainConfig({ ...tinyRealmConfig(corpus, vocab, join(dir, name), 1), model: { vocab, config, init } }, name, dir), (l) => logs.push(l));
      const w = built.task.model.stateDict();
      if (expectWarning) {
        assert.ok(!w.has(layer1));
        assert.ok(logs.some((l) => expectWarning.test(l)), logs.join('\n'));
      } else {
        assert.deepEqual(w.get(layer1)!.data, donorW.get(layer1)!.data, 'the second reader layer comes from the file');
        assert.ok(!logs.some((l) => /warning/.test(l)), logs.join('\n'));
      }
      await built.task.close?.();
    }
    // an MLM BERT file (1 layer) cannot fill the deeper reader's second layer: a warning; the 1-layer config: none
    const mlm = await runPretrain(parsePretrainConfig({
      task: 'mlm', seed: 5, outputDir: join(dir, 'mlm'), threads: 1, model: { vocab, config: TINY_MODEL },
      data: { corpus, seqLen: 24 }, optim: { steps: 1, batchSize: 2, warmupSteps: 0 }, log: { quiet: true },
    }, 'mlm', dir));
    for (const [name, config, warns] of [['mlmDeep', deepModel, true], ['mlmSame', TINY_MODEL, false]] as const) {
      const logs: string[] = [];
      const built = await buildRealmTask(parsePretrainConfig({ ...tinyRealmConfig(corpus, vocab, join(dir, name), 1), model: { vocab, config, init: mlm.modelDir } }, name, dir), (l) => logs.push(l));
      assert.equal(logs.some((l) => /warning: \d+ encoder-layer tensors are not in .* keep their initialisation \(realm\.encoder\.layer\.1\./.test(l)), warns, logs.join('\n'));
      await built.task.close?.();
    }
    // the other way round: a deep config from a shallow file keeps the extra layer's initialisation and says so
    const shallow = await runPretrain(parsePretrainConfig({ ...tinyRealmConfig(corpus, vocab, join(dir, 'shallowDonor'), 1) }, 'sd', dir));
    const logs: string[] = [];
    const built = await buildRealmTask(parsePretrainConfig({ ...tinyRealmConfig(corpus, vocab, join(dir, 'deep2'), 1), model: { vocab, config: deepModel, init: shallow.modelDir } }, 'd2', dir), (l) => logs.push(l));
    assert.ok(logs.some((l) => /warning: \d+ model tensors are not in .* keep their initialisation \(realm\.encoder\.layer\.1\./.test(l)), logs.join('\n'));
    await built.task.close?.();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('wider reader (reader_hidden_size): an MLM BERT of the reader\'s width fills the reader, the narrower embedders come from model.retrieverInit, and the run trains and exports a model that loads again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-wide-'));
  try {
    const { corpus, vocab } = await writeTinyCorpus(dir);
    const H = TINY_MODEL.hidden_size;
    const wideBert = { ...TINY_MODEL, hidden_size: 2 * H, num_attention_heads: 4, intermediate_size: 4 * H };
    const mlm = await runPretrain(parsePretrainConfig({
      task: 'mlm', seed: 5, outputDir: join(dir, 'mlm'), threads: 1, model: { vocab, config: wideBert },
      data: { corpus, seqLen: 24 }, optim: { steps: 1, batchSize: 2, warmupSteps: 0 }, log: { quiet: true },
    }, 'mlm', dir));
    const retriever = await runPretrain(parsePretrainConfig({ ...tinyRealmConfig(corpus, vocab, join(dir, 'retriever'), 1) }, 'r', dir));
    const config = { ...TINY_MODEL, reader_hidden_size: 2 * H, reader_num_attention_heads: 4, reader_intermediate_size: 4 * H, reader_copy_head: 'span' };
    const cfg = (name: string) => parsePretrainConfig({
      ...tinyRealmConfig(corpus, vocab, join(dir, name), 4),
      model: { vocab, config, init: mlm.modelDir, retrieverInit: join(retriever.modelDir!, 'model.safetensors') },
    }, name, dir);
    const { buildRealmTask } = await import('../../src/train/realmTask.js');
    const logs: string[] = [];
    const built = await buildRealmTask(cfg('build'), (l) => logs.push(l));
    const w = built.task.model.stateDict();
    const mlmW = loadSafetensors(join(mlm.modelDir!, 'model.safetensors')).tensors;
    const retrW = loadSafetensors(join(retriever.modelDir!, 'model.safetensors')).tensors;
    const word = 'realm.embeddings.word_embeddings.weight';
    assert.deepEqual(w.get(word)!.shape, [mlmW.get('bert.embeddings.word_embeddings.weight')!.shape[0], 2 * H]);
    assert.deepEqual(w.get(word)!.data, mlmW.get('bert.embeddings.word_embeddings.weight')!.data, 'the reader comes from the wide MLM BERT');
    assert.deepEqual(w.get('cls.predictions.transform.dense.weight')!.shape, [2 * H, 2 * H]);
    assert.deepEqual(w.get(`embedder.${word}`)!.shape, [w.get(word)!.shape[0], H]);
    assert.deepEqual(w.get(`query_embedder.${word}`)!.data, retrW.get(`query_embedder.${word}`)!.data, 'the embedders come from model.retrieverInit');
    assert.ok(logs.some((l) => /warning: \d+ model tensors have another shape than in .* keep their initialisation .*until model.retrieverInit/.test(l)), logs.join('\n'));
    await built.task.close?.();

    const r = await runPretrain(cfg('run'));
    assert.equal(r.step, 4);
    for (const x of MetricsLog.read(join(dir, 'run', 'metrics.jsonl'))) assert.ok(Number.isFinite(x.loss) && (x.loss as number) > 0);
    const { Realm } = await import('../../src/api/realm.js');
    const realm = await Realm.load({ modelDir: r.modelDir!, log: () => {} });
    assert.equal(realm.model.encoder.bert.wordEmbeddings.shape[1], 2 * H, 'the exported config keeps the reader\'s width');
    const out = await realm.fill('Ada Lovelace was born in [MASK].', { top: 2 });
    assert.equal(out.predictions.length, 2);
    assert.ok(out.predictions.every((p) => p.prob > 0 && p.prob <= 1));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
