/**
 * RealmPretrainModel and the knowledge-augmented encoder (REALM §3): HF parameter names and the tied MLM decoder; the
 * joint input layout and its truncation (hand-derived); batched/padded encoder log-likelihoods equal a row-by-row
 * computation; the model's loss equals a float64 recomputation from independently embedded queries/blocks and
 * per-row encoder passes; the null document is always a candidate, its score is learned (gradient = −mean r(∅),
 * moved by the optimiser, saved and loaded); retrieval in the loop with a real index excludes x's own block.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdamW, Rng, backward, indexSelect, logSoftmax, noGrad, reshape } from '../../src/engine/index.js';
import { FlatIndex } from '../../src/index/flat.js';
import { BertForMaskedLM } from '../../src/model/mlm.js';
import { BlockTokenCache, RealmInputError, docInputs, queryInputs, type BlockTokens } from '../../src/realm/batch.js';
import { jointIds, type JointRow } from '../../src/realm/kaEncoder.js';
import { logSumExp64 } from '../../src/realm/loss.js';
import { LEXICAL_WEIGHT_NAME, LOG_SCORE_SCALE_NAME, NULL_SCORE_NAME, realmDecay } from '../../src/realm/model.js';
import { CLS, MASK, SEP, SPECIALS, TinyWorld, tinyModel, warmUpReader } from './tiny.js';

test('parameter names follow HF (RealmKnowledgeAugEncoder + RealmScorer) plus our null_document_score', () => {
  const world = new TinyWorld(4, 4, new Rng(1));
  const model = tinyModel(world, 1);
  const enc = [...model.encoder.parameters().keys()];
  for (const n of [
    'realm.embeddings.word_embeddings.weight', 'realm.embeddings.position_embeddings.weight', 'realm.embeddings.LayerNorm.weight',
    'realm.encoder.layer.1.attention.self.query.weight', 'realm.encoder.layer.0.output.LayerNorm.bias', 'realm.pooler.dense.weight',
    'cls.predictions.transform.dense.weight', 'cls.predictions.transform.LayerNorm.bias', 'cls.predictions.bias',
  ]) assert.ok(enc.includes(n), n);
  assert.ok(!enc.some((n) => n.startsWith('cls.predictions.decoder')), 'decoder is tied, not a separate tensor');
  const all = [...model.stateDict().keys()];
  for (const n of ['embedder.realm.embeddings.word_embeddings.weight', 'query_embedder.cls.dense.weight', 'embedder.cls.LayerNorm.bias', NULL_SCORE_NAME]) {
    assert.ok(all.includes(n), n);
  }
  assert.equal(new Set(all).size, all.length);
  assert.deepEqual(model.nullScore.shape, [1]);
});

test('the MLM decoder is tied to the word embeddings (gradient reaches the target row only through the head)', () => {
  const world = new TinyWorld(4, 4, new Rng(2));
  const model = tinyModel(world, 2);
  const target = world.answer(3); // a token that appears in no input below
  const rows: JointRow[] = [{ x: Int32Array.of(world.entity(0), world.has, MASK), block: null, positions: [2], targets: [target] }];
  backward(reshape(model.encoder.targetLogProbs(SPECIALS, rows, 40, false), []));
  const g = model.encoder.parameters().get('realm.embeddings.word_embeddings.weight')!.grad!;
  const H = g.shape[1];
  let norm = 0;
  for (let c = 0; c < H; c++) norm += g.data[target * H + c] ** 2;
  assert.ok(norm > 0, 'word embedding row of the target gets a gradient');
});

test('joint input: [CLS] x [SEP] title [SEP] text [SEP], segment 1 for the block, only the block truncated', () => {
  const tok = { clsId: CLS, sepId: SEP };
  const x = Int32Array.of(10, 11, MASK);
  const block: BlockTokens = { id: 0, titleIds: Int32Array.of(20), textIds: Int32Array.of(30, 31, 32, 33) };
  const full = jointIds(tok, x, block, 12);
  assert.deepEqual([...full.ids], [CLS, 10, 11, MASK, SEP, 20, SEP, 30, 31, 32, 33, SEP]);
  assert.deepEqual([...full.types], [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual([...jointIds(tok, x, block, 10).ids], [CLS, 10, 11, MASK, SEP, 20, SEP, 30, 31, SEP]);
  assert.deepEqual([...jointIds(tok, x, block, 7).ids], [CLS, 10, 11, MASK, SEP, SEP, SEP]);
  const nul = jointIds(tok, x, null, 12);
  assert.deepEqual([...nul.ids], [CLS, 10, 11, MASK, SEP]);
  assert.deepEqual([...nul.types], [0, 0, 0, 0, 0]);
  assert.throws(() => jointIds(tok, x, block, 4), RealmInputError);
});

test('batched encoder log-likelihoods equal row-by-row passes read at position 1 + p', () => {
  const rng = new Rng(3);
  const world = new TinyWorld(6, 6, rng);
  const model = tinyModel(world, 3);
  const rows: JointRow[] = [0, 1, 2].flatMap((i) => {
    const q = world.query(i);
    return [null, world.block(i, rng), world.block((i + 1) % 6, rng)].map((block) => ({ x: q.inputIds, block, positions: [2], targets: [q.labels[2]] }));
  });
  rows.push({ x: Int32Array.of(MASK, world.has, MASK), block: world.block(4, rng), positions: [0, 2], targets: [world.entity(4), world.answer(1)] });
  const batched = noGrad(() => model.encoder.targetLogProbs(SPECIALS, rows, 40, false)).data;
  let k = 0;
  for (const r of rows) {
    const seq = jointIds(SPECIALS, r.x, r.block, 40);
    const inputs = { inputIds: seq.ids, tokenTypeIds: seq.types, batch: 1, seqLen: seq.ids.length };
    noGrad(() => {
      const h = model.encoder.bert.forward(inputs, false, { pool: false }).sequenceOutput; // [1, T, H]
      const rowsH = indexSelect(reshape(h, [seq.ids.length, h.shape[2]]), 0, Int32Array.from(r.positions, (p) => 1 + p));
      const lp = logSoftmax(model.encoder.head.forward(rowsH), -1);
      r.positions.forEach((_, j) => {
        const want = lp.data[j * lp.shape[1] + r.targets![j]];
        assert.ok(Math.abs(batched[k] - want) < 1e-4, `row value ${batched[k]} vs ${want}`);
        k++;
      });
    });
  }
  assert.equal(k, batched.length);
});

test('model loss = float64 recomputation from separately embedded queries, blocks and per-row encoder passes', () => {
  const rng = new Rng(4);
  const world = new TinyWorld(6, 6, rng);
  const model = tinyModel(world, 4, { k: 3 });
  model.nullScore.data[0] = 0.7;
  const examples = [world.query(0), world.query(1), { ...world.query(2), labels: Int32Array.of(world.entity(2), -100, world.answer(world.answerOf[2])), inputIds: Int32Array.of(MASK, world.has, MASK) }];
  const [b10, b13, b11] = [world.block(0, rng, 10), world.block(3, rng, 13), world.block(1, rng, 11)];
  const retrieved = [[b10, b13, b11], [b11], []]; // block 11 twice: embedded once
  for (const marginal of ['span', 'token'] as const) {
    const m = tinyModel(world, 4, { k: 3, marginal });
    for (const [n, t] of model.stateDict()) m.stateDict().get(n)!.data.set(t.data);
    const { loss, diagnostics } = noGrad(() => m.forward(examples, retrieved, { training: false }));
    let total = 0;
    let count = 0;
    examples.forEach((e, b) => {
      const q = m.queryEmbedder.embed(queryInputs(SPECIALS, [e], 16));
      const scores = [0.7, ...retrieved[b].map((blk) => {
        const d = m.docEmbedder.embed(docInputs(SPECIALS, [blk], 24));
        return q.reduce((s, v, c) => s + v * d[c], 0);
      })];
      const lse = logSumExp64(scores);
      const positions = [...e.labels].map((l, i) => (l === -100 ? -1 : i)).filter((i) => i >= 0);
      const lp = [null, ...retrieved[b]].map((block) => noGrad(() => m.encoder.targetLogProbs(SPECIALS, [{ x: e.inputIds, block, positions, targets: positions.map((p) => e.labels[p]) }], 40, false)).data);
      const d = diagnostics.examples[b];
      scores.forEach((s, z) => {
        assert.ok(Math.abs(d.scores[z] - s) < 1e-4, `score ${d.scores[z]} vs ${s}`);
        assert.ok(Math.abs(d.pz[z] - Math.exp(s - lse)) < 1e-5, `p(z|x) ${d.pz[z]}`);
      });
      if (marginal === 'span') {
        total -= logSumExp64(scores.map((s, z) => s - lse + lp[z].reduce((a, v) => a + v, 0)));
        count += 1;
      } else {
        positions.forEach((_, j) => { total -= logSumExp64(scores.map((s, z) => s - lse + lp[z][j])); });
        count += positions.length;
      }
      assert.ok(Math.abs(d.pz.reduce((a, v) => a + v, 0) - 1) < 1e-6, 'p(z|x) sums to 1');
      assert.ok(Math.abs(d.reward.reduce((a, v) => a + v, 0)) < 1e-6, 'rewards sum to 0');
      assert.equal(d.nullProb, d.pz[0]);
      assert.equal(d.topDocProb, d.pz.length > 1 ? Math.max(...d.pz.slice(1)) : 0);
    });
    assert.ok(Math.abs(loss.item() - total / count) < 2e-4, `${marginal}: ${loss.item()} vs ${total / count}`);
  }
});

test('null document: always candidate 0, score gradient = −mean r(∅), learned by the optimiser, saved and loaded', () => {
  const rng = new Rng(5);
  const world = new TinyWorld(6, 6, rng);
  const model = tinyModel(world, 5, { k: 2 });
  assert.ok(model.parameters().has(NULL_SCORE_NAME), 'null score is trainable');
  const examples = [world.query(0), world.query(1), world.query(2)];
  const retrieved = [[world.block(0, rng), world.block(1, rng)], [world.block(2, rng)], []];
  const opt = new AdamW(model.parameters(), { lr: 0.05, weightDecay: 0 });
  const before = model.nullScore.data[0];
  const { loss, diagnostics } = model.forward(examples, retrieved, { training: false });
  assert.deepEqual(diagnostics.examples.map((e) => e.pz.length), [3, 2, 1]);
  assert.equal(diagnostics.examples[2].pz[0], 1);
  backward(loss);
  const meanR = diagnostics.examples.reduce((a, e) => a + e.reward[0], 0) / 3;
  assert.ok(Math.abs(model.nullScore.grad!.data[0] + meanR) < 1e-5, `${model.nullScore.grad!.data[0]} vs ${-meanR}`);
  const g = model.nullScore.grad!.data[0];
  opt.step();
  // AdamW's first step (no decay on it here): Δ = −lr · g / (|g| + eps)
  const after = model.nullScore.data[0];
  assert.ok(Math.abs(after - (before - (0.05 * g) / (Math.abs(g) + 1e-6))) < 1e-6, `null score ${before} -> ${after}`);
  assert.ok(after !== before, 'null score changed');
  // save / load round trip into a differently initialised model
  const dir = mkdtempSync(join(tmpdir(), 'realm-model-'));
  try {
    model.save(join(dir, 'model.safetensors'));
    const other = tinyModel(world, 99, { k: 2 });
    other.load(join(dir, 'model.safetensors'));
    for (const [n, t] of model.stateDict()) assert.deepEqual(other.stateDict().get(n)!.data, t.data, n);
    const l1 = noGrad(() => model.forward(examples, retrieved, { training: false }).loss.item());
    const l2 = noGrad(() => other.forward(examples, retrieved, { training: false }).loss.item());
    assert.equal(l1, l2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // switched off: not a parameter, no candidate 0
  const noNull = tinyModel(world, 5, { k: 2, nullDocument: false });
  assert.ok(!noNull.parameters().has(NULL_SCORE_NAME), 'no null score without the null document');
  assert.deepEqual(noNull.forward(examples.slice(0, 2), retrieved.slice(0, 2), { training: false }).diagnostics.examples.map((e) => e.pz.length), [2, 1]);
  assert.throws(() => noNull.forward([examples[2]], [[]]), RealmInputError);
});

test('retrieveAndForward: index search with the query embedder, own block excluded, same loss as forward', () => {
  const rng = new Rng(6);
  const world = new TinyWorld(6, 6, rng);
  const model = tinyModel(world, 6, { k: 3 });
  const blocks = Array.from({ length: 6 }, (_, i) => world.block(i, rng));
  const index = new FlatIndex({ dim: 16, kernels: 'js' });
  index.add(blocks.map((b) => b.id), model.docEmbedder.embed(docInputs(SPECIALS, blocks, 24)));
  const cache = { get: (ids: readonly number[]) => ids.map((i) => blocks[i]) };
  const examples = [world.query(0, 0), world.query(4, 4)];
  const out = noGrad(() => model.retrieveAndForward(examples, index, cache, { training: false }));
  out.retrieved.ids.forEach((ids, b) => {
    assert.equal(ids.length, 3);
    assert.ok(!ids.includes(examples[b].sourceBlockId!), `own block in ${ids}`);
  });
  const ref = noGrad(() => model.forward(examples, out.retrieved.ids.map((ids) => ids.map((i) => blocks[i])), { training: false }));
  assert.ok(Math.abs(out.loss.item() - ref.loss.item()) < 1e-6, `${out.loss.item()} vs ${ref.loss.item()}`);
  // stale scores are the index's inner products; recomputed ones match them when nothing has trained yet
  out.retrieved.staleScores.forEach((s, b) => s.forEach((v, j) => assert.ok(Math.abs(v - out.diagnostics.examples[b].scores[j + 1]) < 1e-4, `stale ${v}`)));
  // BlockTokenCache tokenises through the tokenizer once per block
  let calls = 0;
  const c = new BlockTokenCache({ getMany: (ids) => { calls += ids.length; return Array.from(ids, (i) => ({ title: `t${i}`, text: `x${i}` })); } },
    { encodeSequence: (t: string) => ({ ids: [t.length] }) }, 10);
  c.get([1, 2, 1]);
  c.get([2, 3]);
  assert.equal(calls, 3);
  assert.deepEqual(c.get([3]).map((b) => [...b.titleIds, ...b.textIds]), [[2, 2]]);
});

test('warm start: the encoder loaded from a BertForMaskedLM gives its MLM logits; the retriever from a scorer file', () => {
  const world = new TinyWorld(4, 4, new Rng(8));
  const model = tinyModel(world, 8);
  const mlm = new BertForMaskedLM(model.cfg, new Rng(80), 'bert');
  const state = mlm.parameters();
  state.delete('bert.pooler.dense.weight'); // like HF's BertForMaskedLM, which has no pooler
  state.delete('bert.pooler.dense.bias');
  model.initEncoderFromMlm(state, 'bert');
  const seq = jointIds(SPECIALS, Int32Array.of(world.entity(1), world.has, MASK), world.block(1, new Rng(1)), 40);
  const inputs = { inputIds: seq.ids, tokenTypeIds: seq.types, batch: 1, seqLen: seq.ids.length };
  const want = noGrad(() => mlm.logits(inputs, Int32Array.of(3), false)).data;
  const got = noGrad(() => model.encoder.logits(SPECIALS, [{ x: Int32Array.of(world.entity(1), world.has, MASK), block: world.block(1, new Rng(1)), positions: [2] }], 40, false)).data;
  assert.equal(got.length, want.length);
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-5, `logit ${i}: ${got[i]} vs ${want[i]}`);
  const dir = mkdtempSync(join(tmpdir(), 'realm-warm-'));
  try {
    const other = tinyModel(world, 81);
    other.scorer.save(join(dir, 'scorer.safetensors'));
    model.initRetrieverFrom(join(dir, 'scorer.safetensors'));
    for (const [n, t] of other.scorer.parameters()) assert.deepEqual(model.scorer.parameters().get(n)!.data, t.data, n);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad inputs raise RealmInputError naming the problem', () => {
  const world = new TinyWorld(4, 4, new Rng(7));
  const model = tinyModel(world, 7);
  const q = world.query(0);
  assert.throws(() => model.forward([{ ...q, labels: Int32Array.of(-100, -100, -100) }], [[]]), /no masked position/);
  assert.throws(() => model.forward([q], []), /1 examples/);
  assert.throws(() => model.forward([{ ...q, labels: Int32Array.of(1) }], [[]]), /labels/);
  assert.throws(() => model.forward([], []), /empty batch/);
});

test('scoreScale multiplies every relevance score (not the null score); gradients reach the embedders scaled too', () => {
  const rng = new Rng(12);
  const world = new TinyWorld(4, 4, rng);
  const blocks = Array.from({ length: 4 }, (_, i) => world.block(i, rng));
  const examples = [world.query(0, 0), world.query(2, 2)];
  const retrieved = [[blocks[1], blocks[2]], [blocks[3], blocks[0]]];
  const run = (s: number) => {
    const m = tinyModel(world, 3, { k: 2, scoreScale: s });
    const out = m.forward(examples, retrieved, { training: false });
    backward(out.loss);
    return { m, d: out.diagnostics };
  };
  const one = run(1);
  const half = run(0.5);
  half.d.examples.forEach((e, b) => {
    assert.equal(e.scores[0], one.d.examples[b].scores[0], 'null score unscaled');
    e.scores.slice(1).forEach((v, j) => assert.ok(Math.abs(v - 0.5 * one.d.examples[b].scores[j + 1]) < 1e-5, `score ${v}`));
  });
  // ∂loss/∂q·d = scale · ∂loss/∂f: with identical rewards the query-embedder gradient would halve; here just non-zero and different
  const g = (m: typeof one.m) => m.queryEmbedder.parameters().values().next().value!.grad!.data;
  assert.ok(g(half.m).some((v, i) => Math.abs(v - g(one.m)[i]) > 1e-9));
  assert.throws(() => tinyModel(world, 3, { scoreScale: 0 }), /scoreScale/);
});

test('learned score scale: f = exp(s)·q·d, ∂loss/∂s = −mean Σ_z r(z) f(z), a parameter without decay, saved and loaded strictly', () => {
  const rng = new Rng(8);
  const world = new TinyWorld(6, 6, rng);
  const model = tinyModel(world, 8, { k: 2, scoreScale: 0.5, learnScoreScale: true });
  assert.ok(model.parameters().has(LOG_SCORE_SCALE_NAME));
  assert.equal(realmDecay(LOG_SCORE_SCALE_NAME), false);
  assert.ok(Math.abs(model.scoreScale - 0.5) < 1e-7);
  const fixed = tinyModel(world, 8, { k: 2, scoreScale: 0.5 });
  assert.ok(!fixed.parameters().has(LOG_SCORE_SCALE_NAME), 'fixed scale: not a parameter');
  const examples = [world.query(0), world.query(1)];
  const retrieved = [[world.block(0, rng), world.block(1, rng)], [world.block(2, rng), world.block(3, rng)]];
  // same weights, same scale: the learned form gives the fixed form's loss
  for (const [n, t] of fixed.stateDict()) t.data.set(model.stateDict().get(n)!.data);
  const { loss, diagnostics } = model.forward(examples, retrieved, { training: false });
  assert.ok(Math.abs(loss.item() - noGrad(() => fixed.forward(examples, retrieved, { training: false }).loss.item())) < 1e-5);
  backward(loss);
  let want = 0;
  for (const e of diagnostics.examples) for (let z = 1; z < e.scores.length; z++) want -= (e.reward[z] * e.scores[z]) / examples.length; // z = 0 is ∅
  const got = model.logScoreScale.grad!.data[0];
  assert.ok(Math.abs(got - want) < 1e-4 * Math.max(1, Math.abs(want)), `${got} vs ${want}`);
  assert.ok(Math.abs(want) > 1e-6, 'the case has a non-zero scale gradient');
  const dir = mkdtempSync(join(tmpdir(), 'realm-scale-'));
  try {
    model.logScoreScale.data[0] = Math.log(0.8);
    model.save(join(dir, 'model.safetensors'));
    const other = tinyModel(world, 99, { k: 2, learnScoreScale: true });
    other.load(join(dir, 'model.safetensors'));
    assert.ok(Math.abs(other.scoreScale - 0.8) < 1e-6);
    assert.throws(() => tinyModel(world, 99, { k: 2 }).load(join(dir, 'model.safetensors')), /retrieval_log_score_scale/);
    fixed.save(join(dir, 'fixed.safetensors'));
    assert.throws(() => other.load(join(dir, 'fixed.safetensors')), /retrieval_log_score_scale/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lexical score term: f = scale·q·d + w·BM25, ∂loss/∂w = −mean Σ_z r(z) BM25(z) = finite differences, saved and loaded strictly', () => {
  const rng = new Rng(9);
  const world = new TinyWorld(6, 6, rng);
  const model = tinyModel(world, 8, { k: 2, scoreScale: 0.5, lexicalScoreWeight: 0.3, learnLexicalScoreWeight: true });
  warmUpReader(model, world, rng, 120); // a reader that copies: the answer-bearing block then earns a real reward
  assert.ok(model.parameters().has(LEXICAL_WEIGHT_NAME));
  assert.equal(realmDecay(LEXICAL_WEIGHT_NAME), false);
  const plain = tinyModel(world, 8, { k: 2, scoreScale: 0.5 });
  assert.ok(!plain.stateDict().has(LEXICAL_WEIGHT_NAME), 'off: not stored');
  for (const [n, t] of plain.stateDict()) t.data.set(model.stateDict().get(n)!.data);
  const examples = [world.query(0), world.query(1)];
  const retrieved = [[world.block(0, rng), world.block(1, rng)], [world.block(3, rng), world.block(1, rng)]]; // example 0: its own fact first
  const bm25 = [[2.5, 0.0], [1.25, 4.0]];
  const { loss, diagnostics } = model.forward(examples, retrieved, { training: false, bm25 });
  const base = noGrad(() => plain.forward(examples, retrieved, { training: false }).diagnostics);
  diagnostics.examples.forEach((e, b) => {
    assert.equal(e.scores[0], base.examples[b].scores[0], 'the null score has no lexical term');
    e.scores.slice(1).forEach((v, j) => assert.ok(Math.abs(v - (base.examples[b].scores[j + 1] + 0.3 * bm25[b][j])) < 1e-5, `score ${v}`));
  });
  backward(loss);
  let want = 0;
  for (const e of diagnostics.examples) for (let z = 1; z < e.scores.length; z++) want -= (e.reward[z] * bm25[diagnostics.examples.indexOf(e)][z - 1]) / examples.length;
  const got = model.lexicalWeight.grad!.data[0];
  assert.ok(Math.abs(got - want) < 1e-4 * Math.max(1, Math.abs(want)), `${got} vs reward formula ${want}`);
  const at = (w: number): number => {
    model.lexicalWeight.data[0] = w;
    return noGrad(() => model.forward(examples, retrieved, { training: false, bm25 }).loss.item());
  };
  const h = 0.05;
  const fd = (at(0.3 + h) - at(0.3 - h)) / (2 * h);
  model.lexicalWeight.data[0] = 0.3;
  assert.ok(Math.abs(got) > 1e-2, `the case has a clear gradient (${got})`);
  assert.ok(Math.abs(fd - got) < 0.02 * Math.abs(got) + 1e-4, `finite differences ${fd} vs autograd ${got}`);
  assert.throws(() => model.forward(examples, retrieved, { training: false }), /lexical score term needs bm25/);
  assert.throws(() => tinyModel(world, 3, { learnLexicalScoreWeight: true }), /learnLexicalScoreWeight/);
  assert.throws(() => tinyModel(world, 3, { lexicalScoreWeight: Number.NaN }), /lexicalScoreWeight/);
  const dir = mkdtempSync(join(tmpdir(), 'realm-lexw-'));
  try {
    model.lexicalWeight.data[0] = 0.125;
    model.save(join(dir, 'model.safetensors'));
    const other = tinyModel(world, 99, { k: 2, lexicalScoreWeight: 1 }); // fixed w: the file's value is loaded
    other.load(join(dir, 'model.safetensors'));
    assert.equal(other.lexicalWeight.data[0], 0.125);
    assert.throws(() => tinyModel(world, 99, { k: 2 }).load(join(dir, 'model.safetensors')), /retrieval_lexical_score_weight/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
