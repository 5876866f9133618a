/**
 * BERT encoder + MLM head tests: forward values against the independent float64 reference (test/model/bert-reference.ts)
 * for both GELU forms and both name prefixes, padding invariance, parameter gradients against finite differences of
 * the float64 reference loss, HF-named save/load round trip (bit-exact) and HF tie aliases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, backward, noGrad, poolStats } from '../../src/engine/index.js';
import { bertMiniConfig, type RealmConfig } from '../../src/model/config.js';
import { BertModel } from '../../src/model/bert.js';
import { BertForMaskedLM } from '../../src/model/mlm.js';
import { referenceBert, referenceMlm, type Weights } from './bert-reference.js';

function tinyConfig(act: RealmConfig['hidden_act']): RealmConfig {
  return bertMiniConfig({
    vocab_size: 23, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 12,
    max_position_embeddings: 16, type_vocab_size: 2, hidden_act: act, pad_token_id: 0,
  });
}

/** Re-draws every parameter (including biases and LayerNorm) so no term of the forward is trivially 0 or 1. */
function randomise(params: Map<string, { data: Float32Array }>, seed: number): void {
  const rng = new Rng(seed);
  for (const [name, t] of params) {
    if (name.includes('LayerNorm.weight')) for (let i = 0; i < t.data.length; i++) t.data[i] = rng.uniform(0.5, 1.5);
    else rng.fillNormal(t.data, 0, name.endsWith('bias') ? 0.1 : 0.4);
  }
}

function batchOf(B: number, T: number, seed: number, V: number, lengths: number[]) {
  const rng = new Rng(seed);
  const inputIds = new Int32Array(B * T);
  const tokenTypeIds = new Int32Array(B * T);
  const attentionMask = new Uint8Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      inputIds[b * T + t] = t < lengths[b] ? 1 + Math.floor(rng.random() * (V - 1)) : 0;
      tokenTypeIds[b * T + t] = t >= T / 2 ? 1 : 0;
      attentionMask[b * T + t] = t < lengths[b] ? 1 : 0;
    }
  }
  return { inputIds, tokenTypeIds, attentionMask, batch: B, seqLen: T };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const act of ['gelu', 'gelu_new'] as const) {
  for (const prefix of ['bert', 'realm']) {
    test(`BERT forward + MLM head match the float64 reference (${act}, prefix ${prefix})`, () => {
      const cfg = tinyConfig(act);
      const model = new BertForMaskedLM(cfg, new Rng(1), prefix);
      randomise(model.parameters(), 2);
      const x = batchOf(3, 7, 3, cfg.vocab_size, [7, 5, 3]);
      const positions = Int32Array.from([1, 4, 6, 7 + 2, 14 + 0, 14 + 1]);
      const labels = Int32Array.from([3, 9, 22, 1, 5, 17]);
      const { seq, pooled } = referenceBert(cfg, model.parameters(), prefix, x.inputIds, x.tokenTypeIds, x.attentionMask, 3, 7);
      const out = noGrad(() => model.bert.forward(x, false));
      assert.deepEqual(out.sequenceOutput.shape, [3, 7, 8]);
      assert.ok(maxAbsDiff(out.sequenceOutput.data, seq.flatMap((s) => s.flatMap((r) => [...r]))) < 1e-4);
      assert.ok(maxAbsDiff(out.pooledOutput!.data, pooled.flatMap((r) => [...r])) < 1e-4);
      const ref = referenceMlm(cfg, model.parameters(), prefix, seq, positions, labels);
      const logits = noGrad(() => model.logits(x, positions, false));
      assert.deepEqual(logits.shape, [6, 23]);
      assert.ok(maxAbsDiff(logits.data, ref.logits.flatMap((r) => [...r])) < 1e-4);
      const loss = noGrad(() => model.loss(x, positions, labels, false)).item();
      assert.ok(Math.abs(loss - ref.loss) < 1e-4, `loss ${loss} vs reference ${ref.loss}`);
    });
  }
}

test('padding: padded positions do not affect real ones (same as the unpadded sequence)', () => {
  const cfg = tinyConfig('gelu');
  const bert = new BertModel(cfg, new Rng(4));
  randomise(bert.parameters(), 5);
  const x = batchOf(1, 9, 6, cfg.vocab_size, [5]);
  const a = noGrad(() => bert.forward(x, false)).sequenceOutput.data.slice(0, 5 * 8);
  const y = { ...x, inputIds: x.inputIds.slice() };
  for (let t = 5; t < 9; t++) y.inputIds[t] = 7 + t; // different junk in the padding
  const b = noGrad(() => bert.forward(y, false)).sequenceOutput.data.slice(0, 5 * 8);
  assert.ok(maxAbsDiff(a, b) < 1e-6);
  const short = { ...x, inputIds: x.inputIds.slice(0, 5), tokenTypeIds: x.tokenTypeIds.slice(0, 5), attentionMask: x.attentionMask.slice(0, 5), seqLen: 5 };
  const c = noGrad(() => bert.forward(short, false)).sequenceOutput.data;
  assert.ok(maxAbsDiff(a, c) < 1e-5);
  // Without the mask the padding would leak in: the outputs differ.
  const nomask = noGrad(() => bert.forward({ ...y, attentionMask: undefined }, false)).sequenceOutput.data.slice(0, 5 * 8);
  assert.ok(maxAbsDiff(a, nomask) > 1e-3);
});

test('MLM loss gradients match central differences of the float64 reference loss', () => {
  const cfg = tinyConfig('gelu');
  const model = new BertForMaskedLM(cfg, new Rng(7), 'bert');
  randomise(model.parameters(), 8);
  const x = batchOf(2, 6, 9, cfg.vocab_size, [6, 4]);
  const positions = Int32Array.from([1, 3, 6 + 2]);
  const labels = Int32Array.from([4, 11, 20]);
  backward(model.loss(x, positions, labels, false));
  const refLoss = (): number => {
    const { seq } = referenceBert(cfg, model.parameters(), 'bert', x.inputIds, x.tokenTypeIds, x.attentionMask, 2, 6);
    return referenceMlm(cfg, model.parameters(), 'bert', seq, positions, labels).loss;
  };
  const rng = new Rng(10);
  let checked = 0;
  for (const [name, p] of model.parameters()) {
    if (name.includes('pooler')) {
      assert.equal(p.grad, null, `${name} is not used by the MLM loss`);
      continue;
    }
    assert.ok(p.grad, `${name} has a gradient`);
    for (let r = 0; r < 2; r++) {
      const i = Math.floor(rng.random() * p.size);
      const old = p.data[i];
      const h = 1e-2;
      p.data[i] = old + h;
      const lp = refLoss();
      p.data[i] = old - h;
      const lm = refLoss();
      p.data[i] = old;
      const fd = (lp - lm) / (2 * h);
      const g = p.grad!.data[i];
      assert.ok(Math.abs(fd - g) <= 2e-3 + 2e-2 * Math.abs(fd), `${name}[${i}]: autograd ${g} vs finite difference ${fd}`);
      checked++;
    }
  }
  assert.ok(checked > 40);
});

test('save/load round trip is bit-exact and reproduces the outputs; HF tie aliases and buffers load', () => {
  const cfg = tinyConfig('gelu_new');
  const a = new BertForMaskedLM(cfg, new Rng(11), 'realm');
  randomise(a.parameters(), 12);
  const dir = mkdtempSync(join(tmpdir(), 'bert-test-'));
  try {
    const file = join(dir, 'model.safetensors');
    a.store.save(file);
    const b = new BertForMaskedLM(cfg, new Rng(13), 'realm');
    b.store.load(file);
    for (const [name, t] of a.parameters()) {
      const u = b.parameters().get(name)!;
      assert.deepEqual(Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength), name);
    }
    const x = batchOf(2, 5, 14, cfg.vocab_size, [5, 3]);
    const pos = Int32Array.from([1, 7]);
    assert.deepEqual(noGrad(() => b.logits(x, pos, false)).data, noGrad(() => a.logits(x, pos, false)).data);

    // An HF-style state dict: decoder weight/bias stored under their alias names, a position_ids buffer.
    const hf = new Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>();
    for (const [name, t] of a.parameters()) {
      const n = name === 'realm.embeddings.word_embeddings.weight' ? 'cls.predictions.decoder.weight'
        : name === 'cls.predictions.bias' ? 'cls.predictions.decoder.bias' : name;
      hf.set(n, { dtype: 'F32', shape: t.shape.slice(), data: t.data.slice() });
    }
    hf.set('realm.embeddings.position_ids', { dtype: 'F32', shape: [1, 16], data: new Float32Array(16) });
    const c = new BertForMaskedLM(cfg, new Rng(15), 'realm');
    c.store.loadStateDict(hf);
    assert.deepEqual(c.parameters().get('realm.embeddings.word_embeddings.weight')!.data, a.parameters().get('realm.embeddings.word_embeddings.weight')!.data);
    assert.deepEqual(c.parameters().get('cls.predictions.bias')!.data, a.parameters().get('cls.predictions.bias')!.data);

    // Errors name the tensor: a wrong shape, and a missing tensor under strict loading.
    const bad = new Map(hf);
    bad.set('realm.pooler.dense.weight', { dtype: 'F32', shape: [4, 4], data: new Float32Array(16) });
    assert.throws(() => c.store.loadStateDict(bad), /realm\.pooler\.dense\.weight/);
    const missing = new Map(hf);
    missing.delete('realm.encoder.layer.1.output.dense.bias');
    assert.throws(() => c.store.loadStateDict(missing), /realm\.encoder\.layer\.1\.output\.dense\.bias/);
    // Loading a "bert." file into a "realm." model fails clearly.
    const d = new BertForMaskedLM(cfg, new Rng(16), 'bert');
    assert.throws(() => d.store.load(file), /missing tensors: bert\./);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad inputs give clear errors', () => {
  const cfg = tinyConfig('gelu');
  const model = new BertForMaskedLM(cfg, new Rng(17));
  const x = batchOf(1, 4, 18, cfg.vocab_size, [4]);
  assert.throws(() => model.bert.forward({ ...x, inputIds: Int32Array.from([1, 2, 99, 3]) }, false), /inputIds\[2\] = 99/);
  assert.throws(() => model.bert.forward({ ...x, seqLen: 17, batch: 1, inputIds: new Int32Array(17), tokenTypeIds: undefined, attentionMask: undefined }, false), /max_position_embeddings/);
  assert.throws(() => model.loss(x, Int32Array.from([4]), Int32Array.from([1])), /maskedPositions\[0\] = 4/);
  assert.throws(() => new BertModel({ ...cfg, num_attention_heads: 3 }, new Rng(1)), /not a multiple/);
});

test('inference (noGrad) recycles layer intermediates: outputs equal the grad-mode forward and stay intact', () => {
  const cfg = bertMiniConfig({
    vocab_size: 50, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128,
    max_position_embeddings: 32, type_vocab_size: 2, hidden_act: 'gelu', pad_token_id: 0,
  });
  const model = new BertModel(cfg, new Rng(5));
  randomise(model.parameters(), 6);
  const x = batchOf(8, 16, 7, cfg.vocab_size, [16, 12, 9, 16, 5, 16, 14, 3]); // [8*16, 64] = 8192 floats: pooled sizes
  const ref = model.forward(x, false).sequenceOutput.data.slice();
  const hits0 = poolStats().hits;
  const a = noGrad(() => model.forward(x, false)).sequenceOutput;
  const aCopy = a.data.slice();
  const b = noGrad(() => model.forward(x, false)).sequenceOutput;
  assert.ok(poolStats().hits > hits0, 'the second inference reused pooled buffers');
  assert.deepEqual(a.data, ref);
  assert.deepEqual(b.data, ref);
  assert.deepEqual(a.data, aCopy, 'a returned output is never recycled under a later call');
});
