/**
 * DPR-style dual-encoder fine-tuning (src/train/dprRetriever.ts): on a synthetic corpus whose questions name their
 * block's topic word, training both embedders from random weights makes the answer block rank first (against the
 * whole re-embedded corpus) for many more questions than before — and, unlike the ORQA-style tuner, the document
 * embedder changes; the first step's loss is the in-batch cross-entropy of the scores it reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/index.js';
import { bertMiniConfig } from '../../src/model/config.js';
import { encodeBlock } from '../../src/retriever/inputs.js';
import { RealmScorer } from '../../src/retriever/scorer.js';
import { DprRetrieverTuner } from '../../src/train/dprRetriever.js';
import { embedBlocks } from '../../src/train/embedCorpus.js';
import { embedQuestions } from '../../src/train/qaRetriever.js';
import { wordTokenizer } from './helpers.js';

test('DprRetrieverTuner: both embedders learn; the answer block ranks first for more questions over the re-embedded corpus', () => {
  const nBlocks = 24;
  const words = [...Array.from({ length: nBlocks }, (_, b) => `t${b}`), 'which', 'what', 'is', 'of', 'a', 'the'];
  const tok = wordTokenizer(words);
  const cfg = bertMiniConfig({
    vocab_size: 5 + words.length, hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64,
    max_position_embeddings: 16, retriever_proj_size: 16, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0,
  });
  const scorer = new RealmScorer(cfg, new Rng(7));
  const fill = ['a the is', 'of a', 'the of the', 'is a'];
  const blocks = Array.from({ length: nBlocks }, (_, b) => ({ title: `t${b}`, text: fill[b % 4] }));
  const fillers = ['which', 'what is', 'which of', 'what'];
  const examples = Array.from({ length: nBlocks * 4 }, (_, i) => ({
    question: `${fillers[Math.floor(i / nBlocks)]} t${i % nBlocks}`, positives: Int32Array.of(i % nBlocks), negatives: Int32Array.of((i + 1) % nBlocks),
  }));
  const evalQs = Array.from({ length: nBlocks }, (_, b) => `what of t${b}`); // a phrasing not trained on
  const top1 = (): number => {
    const dim = cfg.retriever_proj_size;
    const q = embedQuestions(scorer, tok, evalQs, 8);
    const d = embedBlocks(scorer.docEmbedder, tok, blocks, { batchSize: 64, maxBatchTokens: 1e9, blockLen: 8 });
    let hits = 0;
    for (let i = 0; i < nBlocks; i++) {
      let best = -1;
      let bestS = -Infinity;
      for (let j = 0; j < nBlocks; j++) {
        let s = 0;
        for (let k = 0; k < dim; k++) s += q[i * dim + k] * d[j * dim + k];
        if (s > bestS) { bestS = s; best = j; }
      }
      if (best === i) hits++;
    }
    return hits;
  };
  const docBefore = new Map(Array.from(scorer.docEmbedder.parameters(), ([n, t]) => [n, t.data.slice()]));
  const start = top1();
  const tuner = new DprRetrieverTuner(scorer, tok, (id) => encodeBlock(tok, blocks[id].title, blocks[id].text, 8), examples, {
    steps: 600, batchSize: 12, lr: 1e-3, warmupSteps: 10, queryLen: 8, hardNegatives: false,
  });
  let acc = 0;
  for (let i = 0; i < 600; i++) acc = tuner.trainStep().accuracy;
  const end = top1();
  assert.ok(end >= start + 8, `answer block ranked first for ${start} -> ${end} of ${nBlocks} questions (last in-batch accuracy ${acc})`);
  let changed = 0;
  for (const [n, t] of scorer.docEmbedder.parameters()) if (t.data.some((x, i) => x !== docBefore.get(n)![i])) changed++;
  assert.ok(changed >= docBefore.size - 2, `document embedder tensors changed: ${changed} of ${docBefore.size}`);
});

test('DprRetrieverTuner: one hard negative per question joins the batch unless it is a positive of the batch', () => {
  // untrained embedders score every block almost alike, so the first loss is ~ln(number of columns)
  const words = Array.from({ length: 16 }, (_, b) => `w${b}`);
  const tok = wordTokenizer(words);
  const cfg = bertMiniConfig({ vocab_size: 21, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 16, retriever_proj_size: 8, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 });
  const blk = (id: number) => encodeBlock(tok, `w${id}`, `w${(id + 5) % 16}`, 8);
  const firstLoss = (negOf: (i: number) => number, hardNegatives = true): number => {
    const ex = Array.from({ length: 4 }, (_, i) => ({ question: `w${i}`, positives: Int32Array.of(i), negatives: Int32Array.of(negOf(i)) }));
    return new DprRetrieverTuner(new RealmScorer(cfg, new Rng(5)), tok, blk, ex, { steps: 1, batchSize: 4, lr: 0, warmupSteps: 0, hardNegatives }).trainStep().loss;
  };
  const outside = firstLoss((i) => 8 + i); // 4 positives + 4 hard negatives
  const inBatch = firstLoss((i) => (i + 1) % 4); // every negative is another question's positive: dropped
  const off = firstLoss((i) => 8 + i, false);
  assert.ok(Math.abs(outside - Math.log(8)) < 0.05, `with hard negatives: ${outside} vs ln 8`);
  assert.ok(Math.abs(inBatch - Math.log(4)) < 0.05, `negatives that are batch positives dropped: ${inBatch} vs ln 4`);
  assert.ok(Math.abs(off - Math.log(4)) < 0.05, `hardNegatives false: ${off} vs ln 4`);
});

test('DprRetrieverTuner rejects a question without positives and a single-question set', () => {
  const tok = wordTokenizer(['a']);
  const scorer = new RealmScorer(bertMiniConfig({ vocab_size: 6, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 8, retriever_proj_size: 4 }), new Rng(1));
  const blk = () => encodeBlock(tok, 'a', 'a', 8);
  assert.throws(() => new DprRetrieverTuner(scorer, tok, blk, [{ question: 'a', positives: Int32Array.of(0), negatives: new Int32Array(0) }]), /at least 2/);
  assert.throws(() => new DprRetrieverTuner(scorer, tok, blk, [
    { question: 'a', positives: Int32Array.of(0), negatives: new Int32Array(0) },
    { question: 'a', positives: new Int32Array(0), negatives: new Int32Array(0) },
  ]), /without positives/);
});
