/**
 * ICT tests: example construction (the pseudo-query is one of the block's sentences; the block loses exactly that
 * sentence when removed; removal frequency ≈ removeProb by a binomial bound), distinct blocks per batch and a
 * reproducible epoch order, learning on a synthetic topical corpus (held-out in-batch loss falls and accuracy rises
 * over a short run), and resume after a simulated kill (a fresh process state restored from the checkpoint takes the
 * identical next step: same loss, bit-identical weights).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/engine/index.js';
import { bertMiniConfig } from '../../src/model/config.js';
import { RealmScorer } from '../../src/retriever/scorer.js';
import { IctBatcher, IctCorpus, ictExample, epochOrder, ICT_DATA_DEFAULTS, type IctSourceBlock } from '../../src/train/ictData.js';
import { IctTrainer } from '../../src/train/ict.js';
import type { RetrieverTokenizer } from '../../src/retriever/inputs.js';

/** Word-level tokenizer over a growing vocabulary (ids 0..4 are [PAD] [UNK] [CLS] [SEP] [MASK]). */
function wordTokenizer(): RetrieverTokenizer & { vocab: Map<string, number> } {
  const vocab = new Map<string, number>();
  return {
    clsId: 2, sepId: 3, padId: 0, vocab,
    encodeSequence(text: string) {
      const ids: number[] = [];
      for (const w of text.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean)) {
        if (!vocab.has(w)) vocab.set(w, 5 + vocab.size);
        ids.push(vocab.get(w)!);
      }
      return { ids };
    },
  };
}

/** Blocks with their own topic words: every sentence mixes 3 of its block's 5 topic words with 2 common words. */
function topicalBlocks(n: number, seed: number): IctSourceBlock[] {
  const rng = new Rng(seed);
  const pick = (k: number): number => Math.floor(rng.random() * k);
  return Array.from({ length: n }, (_, b) => {
    const sents: string[] = [];
    for (let s = 0; s < 4; s++) {
      const words = ['Start'];
      for (let j = 0; j < 3; j++) words.push(`t${b}x${pick(5)}`);
      for (let j = 0; j < 2; j++) words.push(`common${pick(20)}`);
      sents.push(`${words.join(' ')}.`);
    }
    return { title: `Title ${b % 7}`, text: sents.join(' ') };
  });
}

function tinyScorerConfig(vocab: number, dropout = 0.1) {
  return bertMiniConfig({
    vocab_size: vocab, hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64,
    retriever_proj_size: 16, max_position_embeddings: 64, pad_token_id: 0, hidden_dropout_prob: dropout, attention_probs_dropout_prob: dropout,
  });
}

test('ictExample: query is a sentence of the block, removed from it with probability removeProb', () => {
  const tok = wordTokenizer();
  const corpus = IctCorpus.fromBlocks(tok, topicalBlocks(10, 1));
  assert.equal(corpus.size, 10);
  assert.equal(corpus.eligible.length, 10);
  const rng = new Rng(2);
  let removed = 0;
  const N = 2000;
  for (let k = 0; k < N; k++) {
    const b = k % 10;
    const ex = ictExample(corpus, tok, b, rng, ICT_DATA_DEFAULTS);
    const q = Array.from(ex.query.ids.slice(1, -1));
    const sents = corpus.sentences[b].map((s) => Array.from(s));
    const qi = sents.findIndex((s) => s.join() === q.join());
    assert.ok(qi >= 0, 'query is one of the block sentences');
    const title = Array.from(corpus.titles[b]);
    const body = Array.from(ex.block.ids.slice(2 + title.length, -1));
    assert.deepEqual(Array.from(ex.block.ids.slice(1, 1 + title.length)), title);
    const expected = (ex.removed ? sents.filter((_, i) => i !== qi) : sents).flat();
    assert.deepEqual(body, expected);
    if (ex.removed) removed++;
  }
  // binomial(2000, 0.9): sd = 13.4; 5 sd bound
  assert.ok(Math.abs(removed - 0.9 * N) < 5 * Math.sqrt(N * 0.09), `removed ${removed} of ${N}`);
});

test('IctBatcher: distinct blocks per batch, every eligible block once per epoch, seeded order', () => {
  const tok = wordTokenizer();
  const blocks = topicalBlocks(20, 3);
  blocks.push({ title: 'One', text: 'Only one sentence here' });
  const corpus = IctCorpus.fromBlocks(tok, blocks);
  assert.equal(corpus.eligible.length, 20);
  assert.deepEqual(epochOrder(corpus, 5, 0), epochOrder(corpus, 5, 0));
  assert.notDeepEqual(epochOrder(corpus, 5, 0), epochOrder(corpus, 5, 1));
  const batcher = new IctBatcher(corpus, tok, ICT_DATA_DEFAULTS, 5);
  const rng = new Rng(1);
  const seen: number[] = [];
  for (let k = 0; k < 5; k++) {
    const b = batcher.next(4, rng);
    assert.equal(new Set(b.blockIds).size, 4);
    seen.push(...b.blockIds);
  }
  assert.deepEqual(seen.slice().sort((a, b) => a - b), corpus.eligible.slice().sort((a, b) => a - b));
  assert.equal(batcher.cursor.pos, 20);
  batcher.next(4, rng);
  assert.deepEqual(batcher.cursor, { epoch: 1, pos: 4 });
  assert.throws(() => batcher.next(21, rng), /exceeds/);
});

test('ICT training on a topical corpus: held-out loss falls and in-batch accuracy rises', () => {
  const tok = wordTokenizer();
  const corpus = IctCorpus.fromBlocks(tok, topicalBlocks(96, 7));
  // from a random init the [CLS] vector barely depends on the input, so ICT first sits on a plateau (loss ≈ ln B)
  // for ~100 steps; 300 steps without dropout get well past it
  const cfg = tinyScorerConfig(5 + tok.vocab.size + 8, 0);
  const rng = new Rng(11);
  const scorer = new RealmScorer(cfg, rng);
  const trainer = new IctTrainer(scorer, tok, corpus, rng, {
    steps: 300, batchSize: 16, lr: 1e-3, warmupSteps: 5, logEvery: 0, seed: 3, queryLen: 16, blockLen: 40,
  });
  const heldOut = (): { loss: number; accuracy: number } =>
    trainer.evaluate(new IctBatcher(corpus, tok, { ...ICT_DATA_DEFAULTS, queryLen: 16, blockLen: 40 }, 99), 6, new Rng(5));
  const before = heldOut();
  const stats = trainer.train();
  const after = heldOut();
  assert.equal(stats.length, 300);
  assert.ok(after.loss < before.loss - 0.5, `loss ${before.loss.toFixed(3)} → ${after.loss.toFixed(3)}`);
  assert.ok(after.accuracy > before.accuracy + 0.3, `accuracy ${before.accuracy.toFixed(3)} → ${after.accuracy.toFixed(3)}`);
  const first = stats.slice(0, 30).reduce((s, x) => s + x.loss, 0) / 30;
  const last = stats.slice(-30).reduce((s, x) => s + x.loss, 0) / 30;
  assert.ok(last < first, `training loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
});

test('resume after a simulated kill reproduces the next step exactly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ict-resume-'));
  try {
    const tok = wordTokenizer();
    const corpus = IctCorpus.fromBlocks(tok, topicalBlocks(40, 9));
    const cfg = tinyScorerConfig(5 + tok.vocab.size);
    const opts = { steps: 10, batchSize: 8, lr: 1e-3, warmupSteps: 2, logEvery: 0, seed: 4, queryLen: 16, blockLen: 40, checkpointDir: dir, checkpointEvery: 3, keepLast: 5 };
    // run A: 4 steps (checkpoint at 3), keeps going in memory
    const rngA = new Rng(21);
    const a = new IctTrainer(new RealmScorer(cfg, rngA), tok, corpus, rngA, opts);
    const statsA = a.train({ maxSteps: 4 });
    // run B: a new "process" (different init seed) restored from the step-3 checkpoint
    const rngB = new Rng(999);
    const b = new IctTrainer(new RealmScorer(cfg, rngB), tok, corpus, rngB, { ...opts, checkpointDir: null });
    (b.cfg as { checkpointDir: string | null }).checkpointDir = dir;
    assert.equal(b.resume(), 3);
    (b.cfg as { checkpointDir: string | null }).checkpointDir = null;
    const s4 = b.trainStep();
    assert.equal(s4.step, 4);
    assert.equal(s4.loss, statsA[3].loss);
    assert.equal(s4.accuracy, statsA[3].accuracy);
    for (const [name, t] of a.scorer.parameters()) {
      assert.deepEqual(Array.from(b.scorer.store.get(name).data), Array.from(t.data), name);
    }
    assert.deepEqual(b.batcher.cursor, a.batcher.cursor);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
