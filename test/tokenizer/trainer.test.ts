// WordPiece trainer: specials first (ids 0..4), exact vocab size, speed on the SQuAD dev paragraphs (~1.6 MB),
// encode -> decode recovering the lower-cased text, agreement with the vocabulary HF `tokenizers`' WordPiece trainer
// learned on the same corpus (fixture trained_tokenizer.json), async input, minFrequency and limitAlphabet.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainWordPiece } from '../../src/tokenizer/trainer.js';
import { BertTokenizer } from '../../src/tokenizer/bertTokenizer.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = process.env.REALM_DATA_DIR ?? join(repo, '..', 'shared', 'data');
const paragraphs = readFileSync(join(dataDir, 'corpus', 'squad_v1.1_dev_paragraphs', 'paragraphs.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => (JSON.parse(l) as { text: string }).text);
const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

test('trains an 8k vocab on SQuAD dev fast; specials first; encode -> decode recovers the lower-cased text', async () => {
  const t0 = performance.now();
  const tok = await trainWordPiece(paragraphs, { vocabSize: 8000, minFrequency: 2, doLowerCase: true });
  const ms = performance.now() - t0;
  const bytes = paragraphs.reduce((s, p) => s + Buffer.byteLength(p), 0);
  console.log(`# trained 8000-token vocab on ${(bytes / 1e6).toFixed(2)} MB in ${(ms / 1000).toFixed(2)} s`);
  assert.ok(ms < 60_000, `training took ${ms} ms`);
  const vocab = tok.config.vocab;
  assert.equal(vocab.length, 8000);
  assert.deepEqual(vocab.slice(0, 5), SPECIALS);
  assert.equal(new Set(vocab).size, vocab.length, 'tokens are unique');
  assert.deepEqual([tok.padId, tok.unkId, tok.clsId, tok.sepId, tok.maskId], [0, 1, 2, 3, 4]);
  let unkFree = 0;
  let asciiChecked = 0;
  for (const p of paragraphs.slice(0, 400)) {
    const e = tok.encode(p);
    if (e.inputIds.includes(tok.unkId)) continue;
    unkFree++;
    const decoded = tok.decode(e.inputIds, { skipSpecialTokens: true, cleanup: false });
    assert.equal(decoded, tok.basic.words(p).join(' '));
    if (/^[\x20-\x7e]*$/.test(p)) {
      // Independent reference for ASCII text: lower-case, space out punctuation, collapse whitespace.
      const ref = p.toLowerCase().replace(/([!-/:-@[-`{-~])/g, ' $1 ').split(/\s+/).filter(Boolean).join(' ');
      assert.equal(decoded, ref);
      asciiChecked++;
    }
    // Offsets of the pieces cover the original characters.
    for (let i = 0; i < e.tokens.length; i++) {
      const [s, t] = e.offsets[i]!;
      if (e.sequenceIds[i] === null) continue;
      const piece = e.tokens[i]!.replace(/^##/, '');
      if (/^[\x20-\x7e]+$/.test(p.slice(s, t))) assert.equal(p.slice(s, t).toLowerCase(), piece);
    }
  }
  assert.ok(unkFree >= 396, `only ${unkFree}/400 paragraphs without [UNK]`);
  assert.ok(asciiChecked >= 100, `only ${asciiChecked} ASCII paragraphs checked`);
});

test('vocabulary agrees with HF tokenizers WordPieceTrainer on the same corpus and settings', async () => {
  const hf = BertTokenizer.fromTokenizerJson(fileURLToPath(new URL('../fixtures/tokenizer/trained_tokenizer.json', import.meta.url)));
  const ours = await trainWordPiece(paragraphs, { vocabSize: 5000, minFrequency: 2, limitAlphabet: 1000 });
  assert.equal(ours.vocabSize, hf.vocabSize);
  const hfSet = new Set(hf.config.vocab);
  const shared = ours.config.vocab.filter((t) => hfSet.has(t)).length;
  console.log(`# ${shared}/${hf.vocabSize} tokens shared with the HF-trained vocabulary`);
  assert.ok(shared / hf.vocabSize >= 0.99, `only ${shared} shared tokens`);
  assert.deepEqual(ours.config.vocab.slice(0, 5), hf.config.vocab.slice(0, 5));
});

test('async iterables give the same vocabulary; minFrequency and limitAlphabet are honoured', async () => {
  const texts = paragraphs.slice(0, 200);
  const sync = await trainWordPiece(texts, { vocabSize: 600 });
  async function* gen(): AsyncGenerator<string> {
    for (const t of texts) yield t;
  }
  const asyncTok = await trainWordPiece(gen(), { vocabSize: 600 });
  assert.deepEqual(asyncTok.config.vocab, sync.config.vocab);
  assert.equal(sync.vocabSize, 600);

  // A minimum frequency above every pair count means no merges: specials + characters + ## characters only.
  const noMerge = await trainWordPiece(texts, { vocabSize: 5000, minFrequency: 1e9 });
  const rest = noMerge.config.vocab.slice(5);
  assert.ok(rest.every((t) => [...t.replace(/^##/, '')].length === 1), 'only single characters');
  const chars = new Set<string>();
  for (const t of texts) for (const w of noMerge.basic.words(t)) for (const ch of w) chars.add(ch);
  assert.equal(rest.filter((t) => !t.startsWith('##')).length, chars.size);

  const limited = await trainWordPiece(texts, { vocabSize: 400, limitAlphabet: 30 });
  const singles = limited.config.vocab.slice(5).filter((t) => [...t].length === 1);
  assert.equal(singles.length, 30);
  for (const ch of 'etaoin') assert.ok(singles.includes(ch), `frequent letter ${ch} kept`);
});
