/**
 * Cross-implementation check against Hugging Face transformers: a tiny BertForMaskedLM (gelu_new) saved by HF's
 * `save_pretrained` (test/model/fixtures/hf-bert-tiny, made by make_hf_bert_fixture.py) loads by HF names — the tied
 * decoder weight HF drops is recovered from the word embeddings — and our forward reproduces HF's last hidden state,
 * MLM logits at the masked positions and the loss.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, noGrad } from '../../src/engine/index.js';
import { readConfig } from '../../src/model/config.js';
import { BertForMaskedLM } from '../../src/model/mlm.js';

const DIR = join(new URL('.', import.meta.url).pathname, 'fixtures/hf-bert-tiny');

test('HF BertForMaskedLM checkpoint loads by HF names and our forward matches HF outputs', () => {
  const cfg = readConfig(join(DIR, 'config.json'));
  assert.equal(cfg.hidden_act, 'gelu_new');
  const exp = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8'));
  const model = new BertForMaskedLM(cfg, new Rng(1), 'bert');
  const { missing, unexpected } = model.store.load(join(DIR, 'model.safetensors'), { strict: false });
  assert.deepEqual(missing.sort(), ['bert.pooler.dense.bias', 'bert.pooler.dense.weight']); // BertForMaskedLM has no pooler
  assert.deepEqual(unexpected, []);
  const x = {
    inputIds: Int32Array.from(exp.inputIds), tokenTypeIds: Int32Array.from(exp.tokenTypeIds),
    attentionMask: Uint8Array.from(exp.attentionMask), batch: exp.batch, seqLen: exp.seqLen,
  };
  const seq = noGrad(() => model.bert.forward(x, false, { pool: false })).sequenceOutput;
  let m = 0;
  for (let i = 0; i < seq.size; i++) m = Math.max(m, Math.abs(seq.data[i] - exp.sequenceOutput[i]));
  assert.ok(m < 1e-4, `sequence output differs from HF by ${m}`);
  const pos = Int32Array.from(exp.maskedPositions);
  const lab = Int32Array.from(exp.maskedLabels);
  const logits = noGrad(() => model.logits(x, pos, false));
  m = 0;
  for (let i = 0; i < logits.size; i++) m = Math.max(m, Math.abs(logits.data[i] - exp.logits[i]));
  assert.ok(m < 1e-4, `MLM logits differ from HF by ${m}`);
  const loss = noGrad(() => model.loss(x, pos, lab, false)).item();
  assert.ok(Math.abs(loss - exp.loss) < 1e-4, `loss ${loss} vs HF ${exp.loss}`);
});
