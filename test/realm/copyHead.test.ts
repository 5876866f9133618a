/**
 * The reader's copy head (src/realm/copyHead.ts): its target log-likelihood against a float64 re-derivation of the
 * pointer-generator formula and its gradient against finite differences; the full inference distribution sums to 1 and
 * agrees with the training-time likelihood; null-document rows are exactly the plain MLM head's; and it learns to copy
 * where the plain reader does not (the copy-probe task, small).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, logSoftmax, mean, neg, noGrad } from '../../src/engine/index.js';
import { bertMiniConfig, parseConfig, ConfigError } from '../../src/model/config.js';
import { gatherPositions } from '../../src/model/mlm.js';
import { COPY_GATE_BIAS_INIT, CopyHead, type CopySources } from '../../src/realm/copyHead.js';
import { KnowledgeAugEncoder, type JointRow } from '../../src/realm/kaEncoder.js';
import { gradcheck, rand } from '../engine/gradcheck-helpers.js';
import { COPY_TASK_VOCAB, headWithRandomWeights, linear64, rowOf, trainCopyTask } from './copyHeadFixtures.js';

const H = 8;
const R = 3;
const T = 6;
// rows 0 and 1 have sources (positions 3..5 of row 0, 2..4 of row 1); row 2 has none (a null-document row)
const IDS = Int32Array.from([2, 9, 3, 11, 12, 11, /**/ 2, 4, 13, 14, 10, 0, /**/ 2, 4, 3, 0, 0, 0]);
const SOURCE = Uint8Array.from([0, 0, 0, 1, 1, 1, /**/ 0, 0, 1, 1, 1, 0, /**/ 0, 0, 0, 0, 0, 0]);
const GATHER = Int32Array.from([1, 2, 7, 13, 8]); // flat row * T + t of the masked positions
const TARGETS = Int32Array.from([11, 12, 10, 7, 15]); // 11 twice in row 0's sources, 12 once, 10 once; 7 (null row), 15 absent
const SOURCES: CopySources = { rowOf: Int32Array.from(GATHER, (g) => Math.floor(g / T)), ids: IDS, source: SOURCE, rows: R, seqLen: T };

const randomHead = (seed: number): { head: CopyHead; params: Tensor[] } =>
  headWithRandomWeights((cfg, store) => new CopyHead(cfg, store), H, seed);

/** float64 re-derivation of log p(y_n) = log((1 − g) e^{gen_n} + g Σ_{t: id_t = y_n} a_t). */
function reference(params: Tensor[], seq: Tensor, gen: Tensor): number[] {
  const [wq, bq, wk, bk, wg, bg] = params.map((p) => Array.from(p.data));
  const lin = linear64;
  const h = (flat: number): number[] => rowOf(seq, flat, H);
  return Array.from(GATHER, (g, n) => {
    const r = Math.floor(g / T);
    const q = lin(wq, bq, h(g), H);
    const scores: Array<[number, number]> = []; // [t, score] over sources
    for (let t = 0; t < T; t++) {
      if (!SOURCE[r * T + t]) continue;
      const k = lin(wk, bk, h(r * T + t), H);
      scores.push([t, q.reduce((s, qi, i) => s + qi * k[i], 0) / Math.sqrt(H)]);
    }
    const pGen = Math.exp(gen.data[n]);
    if (scores.length === 0) return Math.log(pGen); // null row: the gate is off
    const m = Math.max(...scores.map(([, s]) => s));
    const z = scores.reduce((s, [, v]) => s + Math.exp(v - m), 0);
    let pCopy = 0;
    for (const [t, v] of scores) if (IDS[r * T + t] === TARGETS[n]) pCopy += Math.exp(v - m) / z;
    const gate = 1 / (1 + Math.exp(-lin(wg, bg, h(g), 1)[0]));
    return Math.log((1 - gate) * pGen + gate * pCopy);
  });
}

test('copy head: target log-likelihood = float64 pointer-generator formula; null rows = the generator', () => {
  const { head, params } = randomHead(1);
  const rng = new Rng(2);
  const seq = rand(rng, [R, T, H]);
  const gen = rand(rng, [5], 1);
  for (let i = 0; i < 5; i++) gen.data[i] = -1 - Math.abs(gen.data[i]); // log-probabilities
  const got = noGrad(() => head.targetLogProbs(head.terms(seq, gatherPositions(seq, GATHER), SOURCES), gen, SOURCES, TARGETS));
  const want = reference(params, seq, gen);
  want.forEach((w, n) => assert.ok(Math.abs(got.data[n] - w) < 1e-5, `position ${n}: ${got.data[n]} vs ${w}`));
  assert.equal(got.data[3], gen.data[3], 'null-document row: exactly log p_gen');
});

test('copy head: gradient w.r.t. hidden states, generator log-probs and every copy parameter matches finite differences', () => {
  const { head, params } = randomHead(3);
  const rng = new Rng(4);
  const seq = rand(rng, [R, T, H]);
  seq.requiresGrad = true;
  const gen = rand(rng, [5]);
  gen.requiresGrad = true;
  const fn = (): Tensor => head.targetLogProbs(head.terms(seq, gatherPositions(seq, GATHER), SOURCES), gen, SOURCES, TARGETS);
  const r = gradcheck(fn, [seq, gen, ...params], { eps: 1e-2, rtol: 2e-2, atol: 2e-3 });
  assert.ok(r.ok, r.detail);
});

test('copy head: inference distribution sums to 1 and agrees with the training likelihood at the targets', () => {
  const { head } = randomHead(5);
  const rng = new Rng(6);
  const seq = rand(rng, [R, T, H]);
  const V = 20;
  const genAll = noGrad(() => logSoftmax(rand(rng, [5, V], 2), -1)); // [N, V]
  const genAt = Tensor.fromArray(Array.from(TARGETS, (y, n) => genAll.data[n * V + y]), [5]);
  const terms = noGrad(() => head.terms(seq, gatherPositions(seq, GATHER), SOURCES));
  const mixed = head.mixLogProbs(terms, genAll, SOURCES);
  const atTargets = noGrad(() => head.targetLogProbs(terms, genAt, SOURCES, TARGETS));
  for (let n = 0; n < 5; n++) {
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(mixed.data[n * V + v]);
    assert.ok(Math.abs(s - 1) < 1e-5, `row ${n} sums to ${s}`);
    assert.ok(Math.abs(mixed.data[n * V + TARGETS[n]] - atTargets.data[n]) < 1e-5, `row ${n}`);
  }
  for (let v = 0; v < V; v++) assert.ok(Math.abs(mixed.data[3 * V + v] - genAll.data[3 * V + v]) < 1e-6, 'null row unchanged');
});

test('reader_copy_head: config validated, cls.copy.* parameters, gate starts at σ(−2), null-document rows = the plain reader', () => {
  assert.throws(() => parseConfig({ reader_copy_head: 'yes' }, 'c.json'), (e: unknown) => e instanceof ConfigError && /reader_copy_head/.test(e.message));
  const base = { vocab_size: 30, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 32 };
  const withCopy = new KnowledgeAugEncoder(bertMiniConfig({ ...base, reader_copy_head: true }), new Rng(7));
  const plain = new KnowledgeAugEncoder(bertMiniConfig(base), new Rng(7));
  const names = [...withCopy.parameters().keys()].filter((n) => n.startsWith('cls.copy.'));
  assert.deepEqual(names.sort(), ['cls.copy.gate.bias', 'cls.copy.gate.weight', 'cls.copy.key.bias', 'cls.copy.key.weight', 'cls.copy.query.bias', 'cls.copy.query.weight']);
  assert.equal(withCopy.parameters().get('cls.copy.gate.bias')!.data[0], COPY_GATE_BIAS_INIT);
  for (const [n, t] of plain.parameters()) t.data.set(withCopy.parameters().get(n)!.data);
  const tok = { clsId: 2, sepId: 3, padId: 0 };
  const x = Int32Array.from([5, 4, 7, 8]);
  const block = { id: 0, titleIds: Int32Array.from([9]), textIds: Int32Array.from([10, 11, 12]) };
  const rows: JointRow[] = [{ x, block: null, positions: [1], targets: [11] }, { x, block, positions: [1], targets: [11] }];
  const a = noGrad(() => withCopy.targetLogProbs(tok, rows, 16, false));
  const b = noGrad(() => plain.targetLogProbs(tok, rows, 16, false));
  assert.ok(Math.abs(a.data[0] - b.data[0]) < 1e-6, 'null-document row unchanged by the head');
  assert.notEqual(a.data[1], b.data[1], 'a row with a block mixes in the copy distribution');
});

test('the copy head learns to copy from the block where the plain reader does not (copy-probe task, small)', () => {
  const vocab = COPY_TASK_VOCAB;
  const len = 16;
  const span = 6;
  const run = (copy: boolean): number => trainCopyTask(copy, 32, (data, i) => {
    const b = Int32Array.from({ length: len }, () => 5 + data.int(vocab - 5));
    const start = data.int(len - span + 1);
    const x = b.slice(start, start + span);
    const p = data.int(span);
    const targets = [x[p]];
    x[p] = 4;
    return { x, block: { id: i, titleIds: new Int32Array(0), textIds: b }, positions: [p], targets };
  }, (reader, rows) => neg(mean(reader.targetLogProbs({ clsId: 2, sepId: 3, padId: 0 }, rows, len + span + 4, true))));
  const chance = Math.log(vocab - 5);
  const plain = run(false);
  const copy = run(true);
  // copying "some token of b" alone is worth ln(35) − ln(16) ≈ 0.8 nats
  assert.ok(copy < chance - 0.6, `copy head: loss ${copy.toFixed(3)} vs chance ${chance.toFixed(3)}`);
  assert.ok(copy < plain - 0.5, `copy head ${copy.toFixed(3)} vs plain reader ${plain.toFixed(3)}`);
});
