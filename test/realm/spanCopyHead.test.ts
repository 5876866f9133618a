/**
 * The reader's span copy head (src/realm/spanCopyHead.ts): p(y|z,x) of whole spans against a float64 re-derivation
 * (windows inside the block only, never across a [SEP]; a span found twice; a block too short; a span not in the
 * block; a null row), its gradient against finite differences, the inference distribution summing to 1 over all
 * fillings and agreeing with the training likelihood, null rows = the plain reader, the model wiring (span marginal
 * only), and that it learns to copy multi-wordpiece spans better than the per-token head.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, backward, logSoftmax, mean, neg, noGrad } from '../../src/engine/index.js';
import { bertMiniConfig, parseConfig } from '../../src/model/config.js';
import { gatherPositions } from '../../src/model/mlm.js';
import type { CopySources } from '../../src/realm/copyHead.js';
import { KnowledgeAugEncoder, type JointRow } from '../../src/realm/kaEncoder.js';
import { RealmInputError } from '../../src/realm/batch.js';
import { RealmPretrainModel } from '../../src/realm/model.js';
import { SpanCopyHead } from '../../src/realm/spanCopyHead.js';
import { gradcheck, rand } from '../engine/gradcheck-helpers.js';
import { COPY_TASK_VOCAB, headWithRandomWeights, linear64, rowOf, trainCopyTask } from './copyHeadFixtures.js';

const H = 8;
const R = 5;
const T = 10;
const V = 21;
// row 0: block 11 12 11 12 (span [11,12] at starts 4 and 6); row 1: 13 [SEP] 14 10 15 (span [14,10,15] at 7 only;
// start 5 would cross the [SEP]); row 2: null document; row 3: a 2-token block for a 3-token span (no window);
// row 4: block 16..20, span [17,19] not in it
const IDS = Int32Array.from([
  2, 4, 4, 3, 11, 12, 11, 12, 0, 0,
  2, 4, 4, 4, 3, 13, 3, 14, 10, 15,
  2, 4, 3, 0, 0, 0, 0, 0, 0, 0,
  2, 4, 4, 4, 3, 16, 17, 3, 0, 0,
  2, 4, 4, 3, 16, 17, 18, 19, 20, 3,
]);
const SOURCE = Uint8Array.from(IDS, (id, i) => {
  const [r, t] = [Math.floor(i / T), i % T];
  return Number((r === 0 && t >= 4 && t <= 7) || (r === 1 && [5, 7, 8, 9].includes(t)) || (r === 3 && (t === 5 || t === 6)) || (r === 4 && t >= 4 && t <= 8));
});
const COUNT = [2, 3, 1, 3, 2];
const GATHER = Int32Array.from(COUNT.flatMap((m, r) => Array.from({ length: m }, (_, j) => r * T + 1 + j)));
const TARGETS = Int32Array.from([11, 12, 14, 10, 15, 7, 16, 17, 18, 17, 19]);
const N = GATHER.length;
const SOURCES: CopySources = { rowOf: Int32Array.from(GATHER, (g) => Math.floor(g / T)), ids: IDS, source: SOURCE, rows: R, seqLen: T };

const randomHead = (seed: number): { head: SpanCopyHead; params: Tensor[] } =>
  headWithRandomWeights((cfg, store) => new SpanCopyHead(cfg, store), H, seed);

/** float64 re-derivation of log p(y|z,x) per row (see src/realm/spanCopyHead.ts). */
function reference(params: Tensor[], seq: Tensor, gen: Tensor): number[] {
  const [wq, bq, wk, bk, wg, bg] = params.map((p) => Array.from(p.data));
  const lin = linear64;
  const h = (flat: number): number[] => rowOf(seq, flat, H);
  let n0 = 0;
  return COUNT.map((M, r) => {
    const flats = Array.from(GATHER.subarray(n0, n0 + M));
    const ys = Array.from(TARGETS.subarray(n0, n0 + M));
    const genSpan = Array.from(gen.data.subarray(n0, n0 + M)).reduce((a, b) => a + b, 0);
    n0 += M;
    const qs = flats.map((f) => lin(wq, bq, h(f), H));
    const starts: Array<[number, number]> = [];
    for (let t = 0; t + M <= T; t++) {
      if (!Array.from({ length: M }, (_, j) => SOURCE[r * T + t + j]).every(Boolean)) continue;
      let s = 0;
      for (let j = 0; j < M; j++) {
        const k = lin(wk, bk, h(r * T + t + j), H);
        s += qs[j].reduce((a, qi, i) => a + qi * k[i], 0) / Math.sqrt(H);
      }
      starts.push([t, s]);
    }
    if (starts.length === 0) return genSpan; // no window: the gate is off
    const m = Math.max(...starts.map(([, s]) => s));
    const z = starts.reduce((a, [, s]) => a + Math.exp(s - m), 0);
    let pCopy = 0;
    for (const [t, s] of starts) if (ys.every((y, j) => IDS[r * T + t + j] === y)) pCopy += Math.exp(s - m) / z;
    const hMean = Array.from({ length: H }, (_, i) => flats.reduce((a, f) => a + h(f)[i], 0) / M);
    const gate = 1 / (1 + Math.exp(-lin(wg, bg, hMean, 1)[0]));
    return Math.log((1 - gate) * Math.exp(genSpan) + gate * pCopy);
  });
}

test('span copy head: span log-likelihood = float64 formula (windows in the block only; twice found; too short; absent; null row)', () => {
  const { head, params } = randomHead(1);
  const rng = new Rng(2);
  const seq = rand(rng, [R, T, H]);
  const gen = Tensor.fromArray(Array.from({ length: N }, () => -1 - Math.abs(rng.normal())), [N]);
  const terms = noGrad(() => head.spanTerms(seq, gatherPositions(seq, GATHER), SOURCES));
  assert.deepEqual([...terms.valid.subarray(0, T)], [0, 0, 0, 0, 1, 1, 1, 0, 0, 0], 'row 0: starts 4..6');
  assert.deepEqual([...terms.valid.subarray(T, 2 * T)], [0, 0, 0, 0, 0, 0, 0, 1, 0, 0], 'row 1: start 7 only, not across the [SEP]');
  assert.equal(terms.valid.subarray(3 * T, 4 * T).reduce((a, b) => a + b, 0), 0, 'row 3: block shorter than the span');
  const got = noGrad(() => head.rowLogProbs(terms, gen, SOURCES, TARGETS));
  const want = reference(params, seq, gen);
  want.forEach((w, r) => assert.ok(Math.abs(got.data[r] - w) < 1e-5, `row ${r}: ${got.data[r]} vs ${w}`));
  assert.equal(got.data[2], gen.data[5], 'null-document row: exactly the generator');
  assert.ok(Math.abs(got.data[3] - (gen.data[6] + gen.data[7] + gen.data[8])) < 1e-6, 'no window: the generator product');
  assert.ok(got.data[0] > Math.log(1 - Math.exp(terms.logGate.data[0])) + gen.data[0] + gen.data[1] + 0.01, 'a copyable span gains');
});

test('span copy head: gradient w.r.t. hidden states, generator log-probs and every copy parameter matches finite differences', () => {
  const { head, params } = randomHead(3);
  const rng = new Rng(4);
  const seq = rand(rng, [R, T, H]);
  seq.requiresGrad = true;
  const gen = rand(rng, [N]);
  gen.requiresGrad = true;
  const fn = (): Tensor => head.rowLogProbs(head.spanTerms(seq, gatherPositions(seq, GATHER), SOURCES), gen, SOURCES, TARGETS);
  const r = gradcheck(fn, [seq, gen, ...params], { eps: 1e-2, rtol: 2e-2, atol: 2e-3 });
  assert.ok(r.ok, r.detail);
});

test('span copy head: inference distribution sums to 1 over every filling and agrees with the training likelihood', () => {
  const { head } = randomHead(5);
  const rng = new Rng(6);
  const seq = rand(rng, [R, T, H]);
  const genAll = noGrad(() => logSoftmax(rand(rng, [N, V], 2), -1)); // [N, V]
  const genAt = Tensor.fromArray(Array.from(TARGETS, (y, n) => genAll.data[n * V + y]), [N]);
  const terms = noGrad(() => head.spanTerms(seq, gatherPositions(seq, GATHER), SOURCES));
  const dists = head.distributions(terms, genAll, SOURCES);
  const atTargets = noGrad(() => head.rowLogProbs(terms, genAt, SOURCES, TARGETS));
  let n0 = 0;
  dists.forEach((d, r) => {
    const M = COUNT[r];
    assert.equal(d.length, M);
    let total = 0;
    for (let code = 0; code < V ** M; code++) {
      const y = Array.from({ length: M }, (_, j) => Math.floor(code / V ** j) % V);
      total += Math.exp(d.logProb(y));
    }
    assert.ok(Math.abs(total - 1) < 1e-4, `row ${r} sums to ${total}`);
    const y = Array.from(TARGETS.subarray(n0, n0 + M));
    assert.ok(Math.abs(d.logProb(y) - atTargets.data[r]) < 1e-5, `row ${r} at its target`);
    n0 += M;
  });
  const top0 = dists[0].top(3, () => false).map((y) => y.join(','));
  assert.ok(top0.includes('11,12') && top0.includes('12,11'), `row 0 proposes the block's windows: ${top0.join(' | ')}`);
  assert.ok(!dists[0].top(3, (v) => v === 12).some((y) => y.includes(12)), 'banned ids never proposed');
});

const BASE = { vocab_size: 30, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 32 };
const TOK = { clsId: 2, sepId: 3, padId: 0 };

test('reader_copy_head "span": config accepted, same cls.copy.* parameters, null rows = the plain reader, span marginal required', () => {
  assert.equal(parseConfig({ reader_copy_head: 'span' }, 'c.json').reader_copy_head, 'span');
  const span = new KnowledgeAugEncoder(bertMiniConfig({ ...BASE, reader_copy_head: 'span' }), new Rng(7));
  const token = new KnowledgeAugEncoder(bertMiniConfig({ ...BASE, reader_copy_head: true }), new Rng(7));
  const plain = new KnowledgeAugEncoder(bertMiniConfig(BASE), new Rng(7));
  assert.deepEqual([...span.parameters().keys()].sort(), [...token.parameters().keys()].sort());
  assert.ok(span.spanLevel && !token.spanLevel && !plain.spanLevel);
  for (const [n, t] of plain.parameters()) t.data.set(span.parameters().get(n)!.data);
  const x = Int32Array.from([5, 4, 4, 8]);
  const block = { id: 0, titleIds: Int32Array.from([9]), textIds: Int32Array.from([10, 11, 12]) };
  const rows: JointRow[] = [{ x, block: null, positions: [1, 2], targets: [11, 12] }, { x, block, positions: [1, 2], targets: [11, 12] }];
  const a = noGrad(() => span.rowLogProbs(TOK, rows, 16, false));
  const b = noGrad(() => plain.rowLogProbs(TOK, rows, 16, false));
  const perToken = noGrad(() => plain.targetLogProbs(TOK, rows, 16, false));
  assert.ok(Math.abs(b.data[0] - (perToken.data[0] + perToken.data[1])) < 1e-5, 'rowLogProbs of a per-token reader = Σ_j');
  assert.ok(Math.abs(a.data[0] - b.data[0]) < 1e-5, 'null-document row unchanged by the head');
  assert.ok(a.data[1] > b.data[1], 'the block holds the span: copying raises p(y|z,x)');
  assert.throws(() => span.targetLogProbs(TOK, rows, 16, false), RealmInputError);
  const cfg = bertMiniConfig({ ...BASE, reader_copy_head: 'span' });
  assert.throws(() => new RealmPretrainModel(cfg, TOK, new Rng(1), { marginal: 'token' }), /marginal "span"/);
  // the model's loss runs through the span head and reaches its parameters
  const model = new RealmPretrainModel(cfg, TOK, new Rng(1), { k: 1, queryMaxLen: 8, blockMaxLen: 8, jointMaxLen: 16 });
  const ex = { inputIds: x, labels: Int32Array.from([-100, 11, 12, -100]) };
  const out = model.forward([ex], [[block]]);
  backward(out.loss);
  const g = model.encoder.parameters().get('cls.copy.key.weight')!.grad!;
  assert.ok(g.data.some((v) => v !== 0), 'gradient reaches cls.copy.key');
  assert.equal(out.diagnostics.examples[0].logPyGivenZ.length, 2, '[∅, z]');
});

test('the span head learns to copy 3-wordpiece spans whole better than the per-token copy head (copy task, small)', () => {
  const vocab = COPY_TASK_VOCAB;
  const len = 16;
  const span = 3;
  const run = (head: true | 'span'): number => trainCopyTask(head, 40, (data, i) => {
    const b = Int32Array.from({ length: len }, () => 5 + data.int(vocab - 5));
    const start = data.int(len - 8 + 1);
    const x = b.slice(start, start + 8);
    const p = 1 + data.int(8 - span - 1);
    const targets = Array.from(x.subarray(p, p + span));
    x.fill(4, p, p + span);
    return { x, block: { id: i, titleIds: new Int32Array(0), textIds: b }, positions: [p, p + 1, p + 2], targets };
  }, (reader, rows) => neg(mean(reader.rowLogProbs(TOK, rows, len + 8 + 4, true)))); // −log p(whole span)
  const chance = span * Math.log(vocab - 5);
  const token = run(true);
  const spanHead = run('span');
  assert.ok(spanHead < chance - 3, `span head: span loss ${spanHead.toFixed(3)} vs chance ${chance.toFixed(3)}`);
  assert.ok(spanHead < token - 1, `span head ${spanHead.toFixed(3)} vs per-token head ${token.toFixed(3)}`);
});
