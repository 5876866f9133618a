/**
 * Cheap REALM settings used by the default model and its no-retrieval baseline: `trainDocEmbedder: false` keeps
 * Embed_doc fixed (not a parameter, no gradient, unchanged by a training step, same loss as the trained setting
 * evaluated with dropout off) while the query embedder and the encoder still learn; k = 0 needs no index at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW, backward, noGrad, Rng } from '../../src/engine/index.js';
import { FlatIndex } from '../../src/index/flat.js';
import { docInputs, RealmInputError } from '../../src/realm/batch.js';
import { SPECIALS, TinyWorld, tinyModel } from './tiny.js';

test('trainDocEmbedder false: Embed_doc gets no parameters / gradient / update; the rest trains; loss unchanged', () => {
  const rng = new Rng(11);
  const world = new TinyWorld(6, 6, rng);
  const frozen = tinyModel(world, 4, { k: 2, trainDocEmbedder: false });
  const trained = tinyModel(world, 4, { k: 2 });
  const names = [...frozen.parameters().keys()];
  assert.ok(names.length > 0 && names.every((n) => !n.startsWith('embedder.')), 'no Embed_doc parameter');
  assert.ok(names.some((n) => n.startsWith('query_embedder.')) && names.some((n) => n.startsWith('realm.')));
  assert.ok([...trained.parameters().keys()].some((n) => n.startsWith('embedder.')));
  const examples = [world.query(0), world.query(3)];
  const retrieved = [[world.block(0, rng), world.block(1, rng)], [world.block(3, rng), world.block(2, rng)]];
  // without dropout the two settings compute the same loss
  const l1 = noGrad(() => frozen.forward(examples, retrieved, { training: false }).loss.item());
  const l2 = noGrad(() => trained.forward(examples, retrieved, { training: false }).loss.item());
  assert.ok(Math.abs(l1 - l2) < 1e-6, `${l1} vs ${l2}`);
  const docBefore = new Map([...frozen.stateDict()].filter(([n]) => n.startsWith('embedder.')).map(([n, t]) => [n, t.data.slice()]));
  const qName = names.find((n) => n.startsWith('query_embedder.') && n.endsWith('dense.weight'))!;
  const qBefore = frozen.stateDict().get(qName)!.data.slice();
  const opt = new AdamW(frozen.parameters(), { lr: 0.01, weightDecay: 0 });
  const { loss } = frozen.forward(examples, retrieved, { training: true });
  backward(loss);
  for (const [n, t] of frozen.stateDict()) if (n.startsWith('embedder.')) assert.equal(t.grad ?? null, null, `${n} has a gradient`);
  opt.step();
  for (const [n, t] of frozen.stateDict()) if (n.startsWith('embedder.')) assert.deepEqual(t.data, docBefore.get(n), `${n} changed`);
  assert.notDeepEqual(frozen.stateDict().get(qName)!.data, qBefore, 'the query embedder learns');
});

test('k = 0: null document only, no index needed; k > 0 without an index is a clear error', () => {
  const rng = new Rng(12);
  const world = new TinyWorld(4, 4, rng);
  const model = tinyModel(world, 2, { k: 0 });
  const cache = { get: (ids: readonly number[]) => ids.map((i) => world.block(i, rng)) };
  const out = noGrad(() => model.retrieveAndForward([world.query(1, 1)], null, cache, { training: false }));
  assert.deepEqual(out.retrieved.ids, [[]]);
  assert.deepEqual(out.diagnostics.examples[0].pz, [1]);
  const withK = tinyModel(world, 2, { k: 2 });
  assert.throws(() => withK.retrieveAndForward([world.query(1, 1)], null, cache), (e: unknown) => e instanceof RealmInputError && /needs an index/.test((e as Error).message));
  const blocks = Array.from({ length: 4 }, (_, i) => world.block(i, rng));
  const index = new FlatIndex({ dim: 16, kernels: 'js' });
  index.add(blocks.map((b) => b.id), withK.docEmbedder.embed(docInputs(SPECIALS, blocks, 24)));
  assert.equal(noGrad(() => withK.retrieveAndForward([world.query(1, 1)], index, cache, { training: false })).retrieved.ids[0].length, 2);
});

test('trainReader false: the knowledge-augmented encoder is no parameter and unchanged by a step; the retriever side learns', () => {
  const rng = new Rng(13);
  const world = new TinyWorld(6, 6, rng);
  const model = tinyModel(world, 4, { k: 2, trainReader: false });
  const readerNames = [...model.encoder.parameters().keys()];
  const names = [...model.parameters().keys()];
  assert.ok(readerNames.length > 0 && readerNames.every((n) => !names.includes(n)), 'no reader parameter is trained');
  assert.ok(names.some((n) => n.startsWith('query_embedder.')), 'the query embedder is');
  assert.ok(names.some((n) => n.startsWith('embedder.')), 'and Embed_doc (trainDocEmbedder default true)');
  const examples = [world.query(0), world.query(3)];
  const retrieved = [[world.block(0, rng), world.block(1, rng)], [world.block(3, rng), world.block(2, rng)]];
  const readerBefore = new Map([...model.encoder.parameters()].map(([n, t]) => [n, t.data.slice()]));
  const qName = names.find((n) => n.startsWith('query_embedder.') && n.endsWith('dense.weight'))!;
  const qBefore = model.stateDict().get(qName)!.data.slice();
  const nullBefore = model.nullScore.data[0];
  // the same loss and retriever-side gradient as a model whose reader trains (same weights, dropout off)
  const trained = tinyModel(world, 4, { k: 2 });
  const lt = trained.forward(examples, retrieved, { training: false }).loss;
  backward(lt);
  const opt = new AdamW(model.parameters(), { lr: 0.01, weightDecay: 0 });
  const { loss } = model.forward(examples, retrieved, { training: false });
  assert.ok(Math.abs(loss.item() - lt.item()) < 1e-6, `${loss.item()} vs ${lt.item()}`);
  backward(loss);
  const gq = model.stateDict().get(qName)!.grad!.data;
  const gt = trained.stateDict().get(qName)!.grad!.data;
  assert.ok(gq.every((g, i) => Math.abs(g - gt[i]) < 1e-6 * (1 + Math.abs(gt[i]))), 'query embedder gradient differs');
  assert.ok(Math.abs(model.nullScore.grad!.data[0] - trained.nullScore.grad!.data[0]) < 1e-6, 'null score gradient differs');
  opt.step();
  for (const [n, t] of model.encoder.parameters()) {
    assert.deepEqual(t.data, readerBefore.get(n), `${n} changed`);
    assert.equal(t.grad ?? null, null, `${n} got a gradient (the fixed reader runs without a graph)`);
  }
  assert.notDeepEqual(model.stateDict().get(qName)!.data, qBefore, 'the query embedder learns');
  assert.notEqual(model.nullScore.data[0], nullBefore, 'the null score learns');
});
