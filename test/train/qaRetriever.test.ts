/**
 * ORQA-style question-encoder fine-tuning (src/train/qaRetriever.ts): the full-corpus marginal loss and its gradient
 * against float64 finite differences; the retrieval "reward" sign (an answer-bearing block's score is pushed up, every
 * other block's down); positive mining (candidates deduplicated, only answer-bearing kept); and learning — on a
 * synthetic corpus whose questions name their block's topic word, the trained query encoder puts more probability on
 * the answer blocks and ranks more of them first than before, with the document vectors untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/index.js';
import { bertMiniConfig } from '../../src/model/config.js';
import type { TokenSeq } from '../../src/retriever/inputs.js';
import { RealmScorer } from '../../src/retriever/scorer.js';
import { QaRetrieverTuner, embedQuestions, marginalLossGrad, minePositives } from '../../src/train/qaRetriever.js';
import { embedTokenized } from '../../src/train/refreshJob.js';
import { wordTokenizer } from './helpers.js';

function lossOf(scores: Float32Array, B: number, N: number, pos: Int32Array[]): number {
  const { loss } = marginalLossGrad(scores.slice(), B, N, pos);
  return loss.reduce((a, b) => a + b, 0) / B;
}

test('marginalLossGrad: loss = logsumexp(all) - logsumexp(positives), gradient matches finite differences', () => {
  const rng = new Rng(3);
  const [B, N] = [3, 11];
  const s = rng.fillNormal(new Float32Array(B * N), 0, 2);
  const pos = [Int32Array.of(2), Int32Array.of(0, 7, 10), Int32Array.of(5, 6)];
  const lse = (xs: number[]): number => { const m = Math.max(...xs); return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0)); };
  const want = pos.map((p, b) => lse(Array.from(s.subarray(b * N, (b + 1) * N))) - lse(Array.from(p, (z) => s[b * N + z])));
  const g = s.slice();
  const { loss, mass } = marginalLossGrad(g, B, N, pos);
  for (let b = 0; b < B; b++) {
    assert.ok(Math.abs(loss[b] - want[b]) < 1e-9, `loss ${b}: ${loss[b]} vs ${want[b]}`);
    assert.ok(Math.abs(mass[b] - Math.exp(-want[b])) < 1e-9);
  }
  const h = 1e-3;
  for (let i = 0; i < B * N; i++) {
    const up = s.slice(); up[i] += h;
    const dn = s.slice(); dn[i] -= h;
    const fd = (lossOf(up, B, N, pos) - lossOf(dn, B, N, pos)) / (2 * h);
    assert.ok(Math.abs(g[i] - fd) < 2e-4, `grad[${i}] ${g[i]} vs finite difference ${fd}`);
  }
  // the reward: descending the loss raises every positive's score and lowers every other block's
  for (let b = 0; b < B; b++)
    for (let j = 0; j < N; j++) {
      if (pos[b].includes(j)) assert.ok(g[b * N + j] < 0, `positive ${b},${j} must be pushed up`);
      else assert.ok(g[b * N + j] > 0, `negative ${b},${j} must be pushed down`);
    }
});

test('marginalLossGrad: a block scored -Infinity (excluded) is out of the softmax and gets zero gradient', () => {
  const rng = new Rng(5);
  const N = 9;
  const s = rng.fillNormal(new Float32Array(N), 0, 2);
  const pos = [Int32Array.of(1, 4)];
  const kept = Array.from(s).filter((_, j) => j !== 6 && j !== 7);
  const lse = (xs: number[]): number => { const m = Math.max(...xs); return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0)); };
  const want = lse(kept) - lse([s[1], s[4]]);
  const g = s.slice();
  g[6] = -Infinity;
  g[7] = -Infinity;
  const { loss } = marginalLossGrad(g, 1, N, pos);
  assert.ok(Math.abs(loss[0] - want) < 1e-9, `loss ${loss[0]} vs ${want} (softmax over the 7 kept blocks)`);
  assert.equal(g[6], 0);
  assert.equal(g[7], 0);
  assert.ok(Math.abs(g.reduce((a, x) => a + x, 0)) < 1e-6, 'gradients of a softmax-minus-posterior row sum to 0');
});

test('minePositives keeps the answer-bearing candidates once, in candidate order', () => {
  const cands = [[4, 1, 4, 9, 1], [3, 3], []];
  const contains = (i: number, id: number): boolean => (i === 0 ? id !== 9 : id === 7);
  const got = minePositives(3, (i) => cands[i], contains);
  assert.deepEqual(got.map((a) => Array.from(a)), [[4, 1], [], []]);
});

test('QaRetrieverTuner: the answer blocks gain probability and rank, the document vectors stay fixed', () => {
  // 24 blocks; block b's "topic" is word t<b>; question = "which <filler> t<b>" and its answer block is b.
  const nBlocks = 24;
  const words = [...Array.from({ length: nBlocks }, (_, b) => `t${b}`), 'which', 'what', 'is', 'of'];
  const tok = wordTokenizer(words);
  const cfg = bertMiniConfig({
    vocab_size: 5 + words.length, hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64,
    max_position_embeddings: 16, retriever_proj_size: 16, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0,
  });
  const scorer = new RealmScorer(cfg, new Rng(7));
  const dim = cfg.retriever_proj_size;
  const docVecs = new Rng(8).fillNormal(new Float32Array(nBlocks * dim), 0, 1);
  const before = docVecs.slice();
  const fillers = ['which', 'what is', 'which of', 'what'];
  const examples = Array.from({ length: nBlocks * 4 }, (_, i) => ({ question: `${fillers[i % 4]} t${i % nBlocks}`, positives: Int32Array.of(i % nBlocks) }));
  const evalQs = Array.from({ length: nBlocks }, (_, b) => `what of t${b}`); // a phrasing not trained on
  const score = (): { mass: number; top1: number } => {
    const q = embedQuestions(scorer, tok, evalQs, 8);
    const s = new Float32Array(nBlocks * nBlocks);
    for (let i = 0; i < nBlocks; i++)
      for (let j = 0; j < nBlocks; j++) {
        let d = 0;
        for (let k = 0; k < dim; k++) d += q[i * dim + k] * docVecs[j * dim + k];
        s[i * nBlocks + j] = d;
      }
    const { mass } = marginalLossGrad(s.slice(), nBlocks, nBlocks, evalQs.map((_, b) => Int32Array.of(b)));
    let top1 = 0;
    for (let i = 0; i < nBlocks; i++) {
      let best = 0;
      for (let j = 1; j < nBlocks; j++) if (s[i * nBlocks + j] > s[i * nBlocks + best]) best = j;
      if (best === i) top1++;
    }
    return { mass: mass.reduce((a, b) => a + b, 0) / nBlocks, top1 };
  };
  const start = score();
  const tuner = new QaRetrieverTuner(scorer, tok, docVecs, dim, examples, { steps: 150, batchSize: 16, lr: 3e-3, warmupSteps: 10, queryLen: 8 });
  let last = 0;
  for (let i = 0; i < 150; i++) last = tuner.trainStep().positiveMass;
  const end = score();
  assert.ok(end.mass > 3 * start.mass && end.mass > 0.2, `answer-block probability ${start.mass.toFixed(3)} -> ${end.mass.toFixed(3)} (train ${last.toFixed(3)})`);
  assert.ok(end.top1 >= start.top1 + 8, `answer block ranked first for ${start.top1} -> ${end.top1} of ${nBlocks} questions`);
  assert.deepEqual(docVecs, before);
  for (const [name, t] of scorer.docEmbedder.parameters()) assert.ok(t.grad === null || t.grad.data.every((x) => x === 0), `${name} must not be trained`);
});

test('QaRetrieverTuner: a pre-tokenised query is embedded as given, excluded blocks are out of the softmax, an excluded positive is refused', () => {
  const words = ['a', 'b', 'c', 'd'];
  const tok = wordTokenizer(words);
  const cfg = bertMiniConfig({
    vocab_size: 5 + words.length, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32,
    max_position_embeddings: 16, retriever_proj_size: 8, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0,
  });
  const scorer = new RealmScorer(cfg, new Rng(11));
  const [N, dim] = [10, cfg.retriever_proj_size];
  const docVecs = new Rng(12).fillNormal(new Float32Array(N * dim), 0, 1);
  const seq = (ids: number[]): TokenSeq => ({ ids: Int32Array.from([tok.clsId, ...ids, tok.sepId]), types: new Int32Array(ids.length + 2) });
  // the question text is not what gets embedded: each example carries its own token ids
  const examples = [
    { question: 'unused', query: seq([5, 6]), positives: Int32Array.of(2), exclude: Int32Array.of(0, 1) },
    { question: 'unused', query: seq([7, 8, 5]), positives: Int32Array.of(4, 9), exclude: Int32Array.of(3) },
  ];
  const scale = 0.7;
  const q = embedTokenized(scorer.queryEmbedder, examples.map((e) => e.query), tok.padId, 8);
  const want = examples.map((e, b) => {
    const s = Array.from({ length: N }, (_, j) => { let d = 0; for (let k = 0; k < dim; k++) d += q[b * dim + k] * docVecs[j * dim + k]; return scale * d; });
    const kept = s.map((x, j) => (e.exclude.includes(j) ? 0 : Math.exp(x)));
    return Array.from(e.positives).reduce((a, z) => a + kept[z], 0) / kept.reduce((a, x) => a + x, 0);
  });
  const tuner = new QaRetrieverTuner(scorer, tok, docVecs, dim, examples, { steps: 1, batchSize: 2, lr: 1e-3, warmupSteps: 0, logitScale: scale, queryLen: 8 });
  const st = tuner.trainStep();
  const mean = (want[0] + want[1]) / 2;
  assert.ok(Math.abs(st.positiveMass - mean) < 1e-5, `positive mass ${st.positiveMass} vs ${mean} (excluded blocks removed)`);
  assert.throws(() => new QaRetrieverTuner(scorer, tok, docVecs, dim, [{ ...examples[0], exclude: Int32Array.of(2) }]), /positive block is also excluded/);
});
