/**
 * Held-out evaluation (src/realm/evaluate.ts) in the tiny world (./tiny.ts): a reader that has learned to copy fills
 * `e_i has [MASK]` when the candidate block states e_i's fact and fails when it states another entity's; the
 * retrieval-utility counters (answer string in top-1 / top-k) agree with a direct check of the candidate texts; the
 * `candidates` override (the BM25 diagnostic of bench/pretrain-bm25.ts) replaces the index; index retrieval honours
 * the own-block exclusion; bad options are refused; the same holds with the span copy head (./spanCopyHead.ts); the
 * per-example view (onExample) carries what each prediction was made from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, noGrad } from '../../src/engine/index.js';
import { FlatIndex } from '../../src/index/flat.js';
import { docInputs, type BlockTokens } from '../../src/realm/batch.js';
import { evaluateHeldOut, type HeldOutExampleView } from '../../src/realm/evaluate.js';
import { rankFillings } from '../../src/realm/spanDistribution.js';
import { LexicalCandidates } from '../../src/realm/lexical.js';
import { MASK, SPECIALS, TinyWorld, tinyModel, warmUpReader } from './tiny.js';

const rng = new Rng(77);
const world = new TinyWorld(8, 8, rng);
const model = tinyModel(world, 5, { k: 2, nullDocument: true }, { initializer_range: 0.1 });
const copyProb = warmUpReader(model, world, rng, 120);
const n = world.n;
// Block i = entity i's fact; block n + i = the same fact with other fillers (what a retriever should find once the
// source block i is excluded).
const blocks: BlockTokens[] = [];
for (let i = 0; i < n; i++) blocks.push(world.block(i, rng, i));
for (let i = 0; i < n; i++) blocks.push(world.block(i, rng, n + i));
const cache = { get: (ids: readonly number[]) => ids.map((id) => blocks[id]) };
const texts = {
  getMany: (ids: ArrayLike<number>) => Array.from(ids, (id) => ({
    title: world.vocab[blocks[id].titleIds[0]],
    text: Array.from(blocks[id].textIds, (t) => world.vocab[t]).join(' '),
  })),
};
const banned = (v: number): boolean => v <= MASK;
const examples = Array.from({ length: n }, (_, i) => world.query(i, i));

test('a copying reader is right with the helpful block and wrong with another entity\'s block', () => {
  assert.ok(copyProb > 0.8, `reader warm-up reached copy probability ${copyProb}`);
  const helpful = evaluateHeldOut(model, examples, null, cache, texts, banned, {
    k: 1, exclude: 'block', candidates: (batch) => batch.map((e) => [n + e.sourceBlockId!]),
  });
  const wrong = evaluateHeldOut(model, examples, null, cache, texts, banned, {
    k: 1, exclude: 'block', candidates: (batch) => batch.map((e) => [n + ((e.sourceBlockId! + 1) % n)]),
  });
  assert.equal(helpful.n, n);
  assert.equal(helpful.top1Contains, 1);
  assert.equal(helpful.topkContains, 1);
  assert.equal(wrong.top1Contains, 0);
  assert.ok(helpful.accuracy >= 0.75, `accuracy with the helpful block ${helpful.accuracy}`);
  assert.ok(wrong.accuracy <= 0.25, `accuracy with a wrong block ${wrong.accuracy}`);
  assert.ok(helpful.meanLogPy > wrong.meanLogPy + 1, `log p(y|x) ${helpful.meanLogPy} vs ${wrong.meanLogPy}`);
  // per-example flags agree with the aggregates
  assert.equal(helpful.correct.length, n);
  assert.equal(helpful.correct.reduce((a, b) => a + b, 0) / n, helpful.accuracy);
  assert.deepEqual(helpful.answerInCandidate, Array(n).fill(1));
  assert.deepEqual(wrong.answerInCandidate, Array(n).fill(0));
  // k caps the candidate lists: two candidates given, k = 1 keeps the first (the wrong one) only.
  const capped = evaluateHeldOut(model, examples, null, cache, texts, banned, {
    k: 1, exclude: 'block', candidates: (batch) => batch.map((e) => [n + ((e.sourceBlockId! + 1) % n), n + e.sourceBlockId!]),
  });
  assert.equal(capped.topkContains, 0);
});

test('span copy head: the evaluation fills from the helpful block through its span distributions, not from a wrong one', () => {
  const r = new Rng(78);
  const spanModel = tinyModel(world, 5, { k: 2, nullDocument: true }, { initializer_range: 0.1, reader_copy_head: 'span' });
  const p = warmUpReader(spanModel, world, r, 120);
  assert.ok(p > 0.8, `span-head warm-up reached copy probability ${p}`);
  const helpful = evaluateHeldOut(spanModel, examples, null, cache, texts, banned, {
    k: 1, exclude: 'block', candidates: (batch) => batch.map((e) => [n + e.sourceBlockId!]),
  });
  const wrong = evaluateHeldOut(spanModel, examples, null, cache, texts, banned, {
    k: 1, exclude: 'block', candidates: (batch) => batch.map((e) => [n + ((e.sourceBlockId! + 1) % n)]),
  });
  assert.ok(helpful.accuracy >= 0.75, `accuracy with the helpful block ${helpful.accuracy}`);
  assert.ok(wrong.accuracy <= 0.25, `accuracy with a wrong block ${wrong.accuracy}`);
  assert.ok(helpful.meanLogPy > wrong.meanLogPy + 1, `log p(y|x) ${helpful.meanLogPy} vs ${wrong.meanLogPy}`);
});

test('index retrieval: exclude "block" never returns the source block; utility counters see every retrieved block', () => {
  // Index of the n source blocks only: each answer is stated in exactly one of them (answers are a permutation).
  const own = blocks.slice(0, n);
  const index = new FlatIndex({ dim: model.cfg.retriever_proj_size, kernels: 'js' });
  index.add(own.map((_, i) => i), noGrad(() => model.docEmbedder.embed(docInputs(SPECIALS, own, model.opts.blockMaxLen))));
  // All other n - 1 blocks retrieved, the source block excluded: no retrieved block holds the answer.
  const excluded = evaluateHeldOut(model, examples, index, cache, texts, banned, { k: n - 1, exclude: 'block' });
  assert.equal(excluded.topkContains, 0);
  assert.equal(excluded.top1Contains, 0);
  // Every block retrieved, nothing excluded: the source block is among them, so every answer is found.
  const all = evaluateHeldOut(model, examples, index, cache, texts, banned, { k: n, exclude: 'none' });
  assert.equal(all.topkContains, 1);
});

test('k > 0 without an index or candidates is refused; k = 0 reports no retrieval figures', () => {
  assert.throws(() => evaluateHeldOut(model, examples, null, cache, texts, banned, { k: 2, exclude: 'block' }), /needs an index/);
  const nullOnly = evaluateHeldOut(model, examples, null, cache, texts, banned, { k: 0, exclude: 'block' });
  assert.equal(nullOnly.top1Contains, null);
  assert.equal(nullOnly.topkContains, null);
  assert.equal(nullOnly.meanNullProb, 1);
});

test('lexical candidates: BM25 blocks added to the index top k find the fact the index lacks (own block still excluded)', () => {
  const own = blocks.slice(0, n); // the index holds only the source blocks: with them excluded, nothing helpful is left
  const index = new FlatIndex({ dim: model.cfg.retriever_proj_size, kernels: 'js' });
  index.add(own.map((_, i) => i), noGrad(() => model.docEmbedder.embed(docInputs(SPECIALS, own, model.opts.blockMaxLen))));
  const tok = { maskId: MASK, isSpecialId: (id: number) => id <= MASK, decode: (ids: ArrayLike<number>) => Array.from(ids, (i) => world.vocab[i]).join(' ') };
  const lexical = LexicalCandidates.fromBlocks(texts.getMany(Array.from(blocks, (_, i) => i)), tok);
  const indexOnly = evaluateHeldOut(model, examples, index, cache, texts, banned, { k: 1, exclude: 'block' });
  const withLex = evaluateHeldOut(model, examples, index, cache, texts, banned, { k: 1, exclude: 'block', lexical, lexicalCandidates: 1 });
  assert.equal(indexOnly.topkContains, 0);
  assert.equal(withLex.topkContains, 1, 'block n + i (same fact) comes from BM25');
  assert.equal(withLex.top1Contains, 0, 'top-1 is still the index\'s first block');
  // the untrained retriever splits p(z|x) between the wrong MIPS block and the BM25 one, so the answer's marginal
  // probability rises (it need not win yet: that is what REALM training of the scores is for)
  assert.ok(withLex.meanLogPy > indexOnly.meanLogPy + 0.5, `log p(y|x) ${indexOnly.meanLogPy} → ${withLex.meanLogPy}`);
  assert.ok(withLex.accuracy >= indexOnly.accuracy);
  assert.throws(() => evaluateHeldOut(model, examples, index, cache, texts, banned, { k: 1, exclude: 'block', lexicalCandidates: 1 }), /BM25 source/);
});

test('priorTemperature divides every score before the softmax: a huge T makes p(z|x) uniform over ∅ and the candidates', () => {
  const cands = (batch: readonly { sourceBlockId?: number }[]): number[][] => batch.map((e) => [n + e.sourceBlockId!, n + ((e.sourceBlockId! + 1) % n)]);
  const plain = evaluateHeldOut(model, examples, null, cache, texts, banned, { k: 2, exclude: 'block', candidates: cands });
  const same = evaluateHeldOut(model, examples, null, cache, texts, banned, { k: 2, exclude: 'block', candidates: cands, priorTemperature: 1 });
  const flat = evaluateHeldOut(model, examples, null, cache, texts, banned, { k: 2, exclude: 'block', candidates: cands, priorTemperature: 1e9 });
  assert.equal(same.meanLogPy, plain.meanLogPy);
  assert.ok(Math.abs(plain.meanNullProb - 1 / 3) > 1e-3, `the untempered prior is not uniform already (${plain.meanNullProb})`);
  assert.ok(Math.abs(flat.meanNullProb - 1 / 3) < 1e-6, `p(∅|x) at T = 1e9: ${flat.meanNullProb}`);
});

test('onExample shows each prediction\'s inputs: p(z|x) over ∅ + candidates, per-candidate answer flags, and the same verdict', () => {
  const cands = (batch: readonly { sourceBlockId?: number }[]): number[][] => batch.map((e) => [n + ((e.sourceBlockId! + 1) % n), n + e.sourceBlockId!]);
  const views: HeldOutExampleView[] = [];
  const r = evaluateHeldOut(model, examples, null, cache, texts, banned, { k: 2, exclude: 'block', candidates: cands, onExample: (v) => views.push(v) });
  assert.equal(views.length, n);
  views.forEach((v, i) => {
    assert.equal(v.example, examples[i]);
    assert.deepEqual(v.ids, cands([examples[i]])[0]);
    assert.equal(v.dists.length, 3);
    assert.ok(Math.abs(v.logPz.reduce((s, l) => s + Math.exp(l), 0) - 1) < 1e-9);
    assert.deepEqual(v.hasAnswer, [false, false, true]); // ∅, the other entity's block, the helpful block
    assert.equal(v.correct ? 1 : 0, r.correct[i]);
    // re-deciding from the view under the same p(z|x) gives the same verdict; keeping only the helpful block is right
    const best = (logPz: readonly number[]): number[] => rankFillings(v.dists, logPz, 5, banned)[0].ids;
    assert.equal(best(v.logPz).every((t, m) => t === v.truth[m]), v.correct);
  });
  const oracle = views.filter((v) => rankFillings(v.dists, [-Infinity, -Infinity, 0], 5, banned)[0].ids.every((t, m) => t === v.truth[m])).length;
  assert.ok(oracle / n >= 0.75, `helpful block only: ${oracle} of ${n}`);
});
