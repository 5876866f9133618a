/**
 * A tiny BERT trained by masked-language modelling on the SQuAD v1.1 dev paragraphs (shared data) with our own
 * WordPiece vocabulary: the held-out MLM loss must fall far below its start (ln V at init) and also clearly below
 * the loss of the best context-free predictor (the unigram distribution of the training targets), so the model is
 * shown to learn from context, not just token frequencies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdamW, Rng, backward, bertDecayExclusions, linearWarmupDecay, noGrad } from '../../src/engine/index.js';
import { bertMiniConfig } from '../../src/model/config.js';
import { BertForMaskedLM } from '../../src/model/mlm.js';
import { trainWordPiece, type BertTokenizer } from '../../src/tokenizer/index.js';

const DATA = process.env.REALM_DATA_DIR ?? join(new URL('../../..', import.meta.url).pathname, 'shared/data');
const PARAGRAPHS = join(DATA, 'corpus/squad_v1.1_dev_paragraphs/paragraphs.jsonl');

interface MlmBatch {
  x: { inputIds: Int32Array; tokenTypeIds: Int32Array; attentionMask: Uint8Array; batch: number; seqLen: number };
  positions: Int32Array;
  labels: Int32Array;
}

/** Cuts token streams into [CLS] w... [SEP] windows of seqLen. */
function windows(tok: BertTokenizer, texts: string[], seqLen: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (const t of texts) {
    const ids = tok.encode(t, null, { addSpecialTokens: false }).inputIds;
    for (let s = 0; s + 16 <= ids.length; s += seqLen - 2) {
      const body = ids.subarray(s, Math.min(ids.length, s + seqLen - 2));
      const w = new Int32Array(seqLen); // padded with [PAD] = 0
      w[0] = tok.clsId;
      w.set(body, 1);
      w[body.length + 1] = tok.sepId;
      out.push(w);
    }
  }
  return out;
}

/** BERT masking: 15% of the real tokens; 80% [MASK], 10% random, 10% unchanged. */
function makeBatch(rows: Int32Array[], tok: BertTokenizer, rng: Rng): MlmBatch {
  const B = rows.length;
  const T = rows[0].length;
  const inputIds = new Int32Array(B * T);
  const attentionMask = new Uint8Array(B * T);
  const positions: number[] = [];
  const labels: number[] = [];
  rows.forEach((r, b) => {
    for (let t = 0; t < T; t++) {
      const id = r[t];
      inputIds[b * T + t] = id;
      attentionMask[b * T + t] = id === tok.padId ? 0 : 1;
      if (id === tok.padId || id === tok.clsId || id === tok.sepId || rng.random() >= 0.15) continue;
      positions.push(b * T + t);
      labels.push(id);
      const u = rng.random();
      if (u < 0.8) inputIds[b * T + t] = tok.maskId;
      else if (u < 0.9) inputIds[b * T + t] = 5 + Math.floor(rng.random() * (tok.vocabSize - 5));
    }
  });
  return {
    x: { inputIds, tokenTypeIds: new Int32Array(B * T), attentionMask, batch: B, seqLen: T },
    positions: Int32Array.from(positions), labels: Int32Array.from(labels),
  };
}

test('tiny BERT trained by MLM on SQuAD paragraphs: held-out loss falls far below ln V and below the unigram baseline', async () => {
  const texts = readFileSync(PARAGRAPHS, 'utf8').split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { text: string }).text);
  assert.ok(texts.length > 1000, `expected the SQuAD dev paragraphs at ${PARAGRAPHS}`);
  const tok = await trainWordPiece(texts, { vocabSize: 2000 });
  const V = tok.vocabSize;
  const T = 64;
  const heldTexts = texts.filter((_, i) => i % 10 === 0);
  const trainRows = windows(tok, texts.filter((_, i) => i % 10 !== 0), T);
  const heldRows = windows(tok, heldTexts, T).slice(0, 64);

  const cfg = bertMiniConfig({
    vocab_size: V, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 128,
    max_position_embeddings: T, hidden_act: 'gelu', pad_token_id: tok.padId, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0,
  });
  const rng = new Rng(42);
  const model = new BertForMaskedLM(cfg, rng, 'bert');
  const held = makeBatch(heldRows, tok, new Rng(7));
  const heldLoss = (): number => noGrad(() => model.loss(held.x, held.positions, held.labels, false)).item();

  // Context-free baseline: cross-entropy of the held-out targets under the (add-one smoothed) unigram
  // distribution of the training tokens, the best any model ignoring context can do in expectation.
  const counts = new Float64Array(V).fill(1);
  let total = V;
  for (const r of trainRows) for (const id of r) if (id > 4) { counts[id]++; total++; }
  let unigram = 0;
  for (const l of held.labels) unigram -= Math.log(counts[l] / total);
  unigram /= held.labels.length;

  const initial = heldLoss();
  const steps = 600;
  const batch = 24;
  const peakLr = 5e-3;
  const opt = new AdamW(model.parameters(), { lr: peakLr, weightDecay: 0.01, decay: bertDecayExclusions });
  const sched = linearWarmupDecay({ peakLr, warmupSteps: 40, totalSteps: steps });
  const order = new Rng(3);
  const t0 = Date.now();
  for (let s = 0; s < steps; s++) {
    const rows = Array.from({ length: batch }, () => trainRows[Math.floor(order.random() * trainRows.length)]);
    const b = makeBatch(rows, tok, order);
    opt.lr = sched(s);
    opt.zeroGrad();
    backward(model.loss(b.x, b.positions, b.labels, true));
    opt.step();
  }
  const final = heldLoss();
  const secs = (Date.now() - t0) / 1000;
  console.log(`MLM: V=${V}, ${trainRows.length} train windows, held-out loss ${initial.toFixed(3)} -> ${final.toFixed(3)} (ln V ${Math.log(V).toFixed(3)}, unigram ${unigram.toFixed(3)}) in ${steps} steps, ${secs.toFixed(1)} s`);
  assert.ok(Math.abs(initial - Math.log(V)) < 0.5, `initial loss ${initial} should be near ln V = ${Math.log(V)}`);
  // Perplexity down more than 4x from ~V, and better than any context-free predictor.
  assert.ok(final < Math.log(V) - 1.4, `final held-out loss ${final} should be < ln V - 1.4 = ${Math.log(V) - 1.4}`);
  assert.ok(final < unigram - 0.2, `final held-out loss ${final} should beat the unigram baseline ${unigram} by 0.2 nats`);
});
