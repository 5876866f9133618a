// vocab.txt / tokenizer.json reading and writing: round trips (save -> load gives identical encodings and files),
// HF's own tokenizer.json (fixture written by `tokenizers`) and ours carrying the same settings and vocab,
// atomic writes leaving no temp files, and clear errors for bad files.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BertTokenizer } from '../../src/tokenizer/bertTokenizer.js';
import { VocabFormatError } from '../../src/tokenizer/errors.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/tokenizer/${name}`, import.meta.url));
const sentences = [
  'The 1973 oil crisis began in October 1973.',
  'Café Müller naïve 「x」 — ¿qué? 中国人 한국어',
  'Einstein was a [MASK]-born scientist.',
  'x'.repeat(120) + ' tail',
];

function sameEncodings(a: BertTokenizer, b: BertTokenizer): void {
  for (const s of sentences) {
    const ea = a.encode(s, 'a second sentence');
    const eb = b.encode(s, 'a second sentence');
    assert.deepEqual([...eb.inputIds], [...ea.inputIds]);
    assert.deepEqual(eb.offsets, ea.offsets);
    assert.deepEqual([...eb.tokenTypeIds], [...ea.tokenTypeIds]);
  }
}

test('tokenizer.json round trip (HF-written file -> ours -> reload) keeps vocab, settings and encodings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tok-json-'));
  try {
    const hfPath = fixture('trained_tokenizer.json');
    const hf = BertTokenizer.fromTokenizerJson(hfPath);
    const out = join(dir, 'tokenizer.json');
    hf.saveTokenizerJson(out);
    const back = BertTokenizer.fromTokenizerJson(out);
    sameEncodings(hf, back);
    const hfJson = JSON.parse(readFileSync(hfPath, 'utf8'));
    const ourJson = JSON.parse(readFileSync(out, 'utf8'));
    assert.deepEqual(ourJson.model.vocab, hfJson.model.vocab);
    assert.deepEqual(ourJson.added_tokens, hfJson.added_tokens);
    for (const k of ['clean_text', 'handle_chinese_chars', 'strip_accents', 'lowercase']) {
      assert.equal(ourJson.normalizer[k], hfJson.normalizer[k], k);
    }
    assert.equal(ourJson.model.unk_token, hfJson.model.unk_token);
    assert.equal(ourJson.model.max_input_chars_per_word, hfJson.model.max_input_chars_per_word);
    // Saving the reloaded tokenizer gives the same bytes (stable serialization).
    const out2 = join(dir, 'tokenizer2.json');
    back.saveTokenizerJson(out2);
    assert.equal(readFileSync(out2, 'utf8'), readFileSync(out, 'utf8'));
    assert.deepEqual(readdirSync(dir).sort(), ['tokenizer.json', 'tokenizer2.json']); // no temp files left
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vocab.txt round trip and cased settings survive tokenizer.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tok-txt-'));
  try {
    const cased = BertTokenizer.fromVocabFile(fixture('hand_vocab.txt'), { doLowerCase: false });
    const txt = join(dir, 'vocab.txt');
    cased.saveVocabTxt(txt);
    assert.equal(readFileSync(txt, 'utf8'), readFileSync(fixture('hand_vocab.txt'), 'utf8'));
    sameEncodings(cased, BertTokenizer.fromVocabFile(txt, { doLowerCase: false }));
    const json = join(dir, 'tokenizer.json');
    cased.saveTokenizerJson(json);
    const back = BertTokenizer.fromTokenizerJson(json);
    assert.equal(back.config.normalizer.lowercase, false);
    sameEncodings(cased, back);
    // CRLF vocab files load the same tokens.
    const crlf = join(dir, 'crlf.txt');
    writeFileSync(crlf, cased.config.vocab.join('\r\n') + '\r\n');
    assert.deepEqual(BertTokenizer.fromVocabFile(crlf).config.vocab, cased.config.vocab);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad files give VocabFormatError naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tok-bad-'));
  try {
    const missing = join(dir, 'missing.txt');
    assert.throws(() => BertTokenizer.fromVocabFile(missing), (e: unknown) => e instanceof VocabFormatError && e.message.includes(missing));
    const noUnk = join(dir, 'nounk.txt');
    writeFileSync(noUnk, '[PAD]\n[CLS]\n[SEP]\nhello\n');
    assert.throws(() => BertTokenizer.fromVocabFile(noUnk), (e: unknown) => e instanceof VocabFormatError && e.message.includes('[UNK]'));
    const badJson = join(dir, 'bad.json');
    writeFileSync(badJson, '{"model": ');
    assert.throws(() => BertTokenizer.fromTokenizerJson(badJson), (e: unknown) => e instanceof VocabFormatError && e.message.includes(badJson));
    const bpe = join(dir, 'bpe.json');
    writeFileSync(bpe, JSON.stringify({ model: { type: 'BPE', vocab: {} } }));
    assert.throws(() => BertTokenizer.fromTokenizerJson(bpe), /WordPiece/);
    const gap = join(dir, 'gap.json');
    writeFileSync(gap, JSON.stringify({ model: { type: 'WordPiece', vocab: { '[UNK]': 0, a: 2 } } }));
    assert.throws(() => BertTokenizer.fromTokenizerJson(gap), VocabFormatError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
