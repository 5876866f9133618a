/**
 * Progressive stacking (src/model/stack.ts) and the reader's own depth (config reader_num_hidden_layers): the stacked
 * weights hold layer order[i] at position i in fresh buffers; a 4-layer BERT loaded from a 2-layer one stacked [0,1,0,1]
 * computes the float64 reference of exactly that layer sequence; order [0,1] reproduces the original; a REALM model
 * with reader_num_hidden_layers 4 has a 4-layer reader and 2-layer embedders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, noGrad } from '../../src/engine/index.js';
import type { NamedArrays } from '../../src/io/safetensors.js';
import { BertModel } from '../../src/model/bert.js';
import { ConfigError, bertMiniConfig, parseConfig, readerTrunkConfig } from '../../src/model/config.js';
import { stackEncoderLayers } from '../../src/model/stack.js';
import { RealmPretrainModel } from '../../src/realm/model.js';
import { referenceBert } from './bert-reference.js';

const BASE = {
  vocab_size: 19, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 12,
  max_position_embeddings: 16, type_vocab_size: 2, pad_token_id: 0, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0,
};

function randomBert(seed: number): BertModel {
  const bert = new BertModel(bertMiniConfig(BASE), new Rng(seed));
  const rng = new Rng(seed + 1);
  for (const [name, t] of bert.parameters()) {
    if (name.includes('LayerNorm.weight')) for (let i = 0; i < t.data.length; i++) t.data[i] = rng.uniform(0.5, 1.5);
    else rng.fillNormal(t.data, 0, name.endsWith('bias') ? 0.1 : 0.4);
  }
  return bert;
}

function weightsOf(bert: BertModel): NamedArrays {
  return new Map([...bert.parameters()].map(([k, t]) => [k, { dtype: 'F32' as const, shape: [...t.shape], data: t.data }]));
}

function load(bert: BertModel, w: NamedArrays): void {
  const params = bert.parameters();
  assert.equal(params.size, w.size);
  for (const [name, t] of params) t.data.set(w.get(name)!.data as Float32Array);
}

const batch = { inputIds: Int32Array.from([2, 5, 7, 11, 3, 0]), tokenTypeIds: Int32Array.from([0, 0, 0, 1, 1, 0]), attentionMask: Uint8Array.from([1, 1, 1, 1, 1, 0]), batch: 1, seqLen: 6 };

test('stackEncoderLayers: layer i = order[i] in fresh buffers, other tensors copied, bad orders refused', () => {
  const w = weightsOf(randomBert(1));
  const s = stackEncoderLayers(w, [0, 1, 0, 1]);
  assert.equal(s.size, w.size + 2 * [...w.keys()].filter((n) => n.startsWith('bert.encoder.layer.0.')).length);
  for (const [name, arr] of w) {
    const m = /^bert\.encoder\.layer\.(\d)\.(.*)$/.exec(name);
    const targets = m ? [0, 1, 2, 3].filter((i) => [0, 1, 0, 1][i] === Number(m[1])).map((i) => `bert.encoder.layer.${i}.${m[2]}`) : [name];
    for (const t of targets) {
      assert.deepEqual(s.get(t)!.data, arr.data, t);
      assert.notEqual(s.get(t)!.data, arr.data, `${t} shares its buffer`);
    }
  }
  assert.notDeepEqual(s.get('bert.encoder.layer.2.output.dense.weight')!.data, s.get('bert.encoder.layer.1.output.dense.weight')!.data);
  assert.throws(() => stackEncoderLayers(w, [0, 2]), /order\[1\] = 2, but the weights hold layers 0, 1/);
  assert.throws(() => stackEncoderLayers(w, []), /empty/);
  assert.throws(() => stackEncoderLayers(w, [0], 'realm.encoder.layer.'), /no tensor named realm\.encoder\.layer\.<i>/);
});

test('a 4-layer BERT from a 2-layer one stacked [0,1,0,1] computes that layer sequence; [0,1] is the original', () => {
  const small = randomBert(3);
  const out2 = noGrad(() => small.forward(batch, false)).sequenceOutput.data;
  const same = new BertModel(bertMiniConfig(BASE), new Rng(9));
  load(same, stackEncoderLayers(weightsOf(small), [0, 1]));
  assert.deepEqual(noGrad(() => same.forward(batch, false)).sequenceOutput.data, out2);

  const cfg4 = bertMiniConfig({ ...BASE, num_hidden_layers: 4 });
  const deep = new BertModel(cfg4, new Rng(9));
  const stacked = stackEncoderLayers(weightsOf(small), [0, 1, 0, 1]);
  load(deep, stacked);
  const out4 = noGrad(() => deep.forward(batch, false)).sequenceOutput.data;
  const ref = referenceBert(cfg4, stacked as never, 'bert', batch.inputIds, batch.tokenTypeIds, batch.attentionMask, 1, 6).seq[0];
  let diff = 0;
  let moved = 0;
  for (let t = 0; t < 5; t++) for (let h = 0; h < 8; h++) {
    diff = Math.max(diff, Math.abs(out4[t * 8 + h] - ref[t][h]));
    moved = Math.max(moved, Math.abs(out4[t * 8 + h] - out2[t * 8 + h]));
  }
  assert.ok(diff < 1e-4, `stacked model vs reference: ${diff}`);
  assert.ok(moved > 1e-2, 'the upper two layers changed nothing');
});

test('reader_num_hidden_layers: validated, gives the reader its own depth, embedders keep num_hidden_layers', () => {
  assert.equal(parseConfig({ reader_num_hidden_layers: 4 }, 'c.json').reader_num_hidden_layers, 4);
  for (const bad of [0, 1.5, '4']) {
    assert.throws(() => parseConfig({ reader_num_hidden_layers: bad }, 'c.json'), (e: unknown) => e instanceof ConfigError && /reader_num_hidden_layers/.test(e.message));
  }
  const cfg = bertMiniConfig({ ...BASE, reader_num_hidden_layers: 4 });
  assert.equal(readerTrunkConfig(cfg).num_hidden_layers, 4);
  assert.equal(readerTrunkConfig(bertMiniConfig(BASE)).num_hidden_layers, 2);
  const model = new RealmPretrainModel(cfg, { clsId: 2, sepId: 3, padId: 0 }, new Rng(1), { k: 1 });
  const readerLayers = new Set([...model.encoder.parameters().keys()].map((n) => /^realm\.encoder\.layer\.(\d+)\./.exec(n)?.[1]).filter(Boolean));
  assert.deepEqual([...readerLayers].sort(), ['0', '1', '2', '3']);
  const embedderLayers = new Set([...model.scorer.parameters().keys()].map((n) => /encoder\.layer\.(\d+)\./.exec(n)?.[1]).filter(Boolean));
  assert.deepEqual([...embedderLayers].sort(), ['0', '1']);
});

test('reader_hidden_size / reader_num_attention_heads / reader_intermediate_size: validated, give the reader and its heads their own width, embedders keep the BERT fields', () => {
  for (const key of ['reader_hidden_size', 'reader_num_attention_heads', 'reader_intermediate_size']) {
    for (const bad of [0, 1.5, '4']) {
      assert.throws(() => parseConfig({ [key]: bad }, 'c.json'), (e: unknown) => e instanceof ConfigError && e.message.includes(key));
    }
  }
  // the reader's heads must divide the reader's width (not the embedders')
  assert.throws(() => parseConfig({ hidden_size: 8, num_attention_heads: 2, reader_hidden_size: 12, reader_num_attention_heads: 5 }, 'c.json'),
    (e: unknown) => e instanceof ConfigError && /reader_num_attention_heads/.test(e.message));
  assert.throws(() => parseConfig({ hidden_size: 8, num_attention_heads: 2, reader_hidden_size: 9 }, 'c.json'),
    (e: unknown) => e instanceof ConfigError && /reader_hidden_size/.test(e.message));
  const cfg = bertMiniConfig({ ...BASE, reader_hidden_size: 12, reader_num_attention_heads: 3, reader_intermediate_size: 20, reader_copy_head: 'span' });
  const t = readerTrunkConfig(cfg);
  assert.deepEqual([t.hidden_size, t.num_attention_heads, t.intermediate_size, t.num_hidden_layers], [12, 3, 20, 2]);
  const model = new RealmPretrainModel(cfg, { clsId: 2, sepId: 3, padId: 0 }, new Rng(1), { k: 1, marginal: 'span' });
  const enc = model.encoder.parameters();
  assert.deepEqual(enc.get('realm.embeddings.word_embeddings.weight')!.shape, [19, 12]);
  assert.deepEqual(enc.get('realm.encoder.layer.1.intermediate.dense.weight')!.shape, [20, 12]);
  assert.deepEqual(enc.get('cls.predictions.transform.dense.weight')!.shape, [12, 12]);
  for (const [name, p] of enc) if (name.startsWith('cls.copy.')) assert.ok(p.shape.every((d) => d !== 8), `${name} [${p.shape}] has the embedders' width`);
  const sc = model.scorer.parameters();
  const emb = [...sc].find(([n]) => n.endsWith('embeddings.word_embeddings.weight'))!;
  assert.deepEqual(emb[1].shape, [19, 8]);
});
