// Hand-checked BERT tokenizations on the hand-written vocab fixture (test/fixtures/tokenizer/hand_vocab.txt):
// every expected token and offset below was derived by hand from BERT's rules (whitespace/punctuation/CJK split,
// lower-casing + NFD accent stripping when uncased, greedy longest-match WordPiece with ##, [UNK] over 100 chars),
// plus pair encoding, truncation, padding, decode and the id helpers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { BertTokenizer } from '../../src/tokenizer/bertTokenizer.js';
import { TruncationError, TokenizerError } from '../../src/tokenizer/errors.js';

const vocabPath = fileURLToPath(new URL('../fixtures/tokenizer/hand_vocab.txt', import.meta.url));
const uncased = BertTokenizer.fromVocabFile(vocabPath, { doLowerCase: true });
const cased = BertTokenizer.fromVocabFile(vocabPath, { doLowerCase: false });

/** tokens and offsets of the text (no specials). */
function pieces(tok: BertTokenizer, text: string): [string, number, number][] {
  const e = tok.encode(text, null, { addSpecialTokens: false });
  return e.tokens.map((t, i) => [t, e.offsets[i]![0], e.offsets[i]![1]]);
}

test('[MASK] survives as one token inside "[MASK]-born"', () => {
  const text = 'Einstein was a [MASK]-born scientist.';
  const expected: [string, number, number][] = [
    ['einstein', 0, 8], ['was', 9, 12], ['a', 13, 14], ['[MASK]', 15, 21], ['-', 21, 22], ['born', 22, 26],
    ['scientist', 27, 36], ['.', 36, 37],
  ];
  assert.deepEqual(pieces(uncased, text), expected);
  const e = uncased.encode(text);
  assert.deepEqual(e.tokens, ['[CLS]', ...expected.map((x) => x[0]), '[SEP]']);
  assert.equal(e.inputIds[4], uncased.maskId);
  assert.deepEqual(e.offsets[0], [0, 0]);
  assert.deepEqual(e.offsets[e.offsets.length - 1], [0, 0]);
  assert.deepEqual(cased.tokenize(text), ['Einstein', 'was', 'a', '[MASK]', '-', 'born', 'scientist', '.']);
});

test('accents: uncased strips them, cased keeps them with ## sub-spans', () => {
  assert.deepEqual(pieces(uncased, 'Café Müller naïve'), [['cafe', 0, 4], ['muller', 5, 11], ['naive', 12, 17]]);
  assert.deepEqual(pieces(cased, 'Café Müller naïve'), [
    ['Caf', 0, 3], ['##é', 3, 4], ['M', 5, 6], ['##ü', 6, 7], ['##ller', 7, 11], ['na', 12, 14], ['##ï', 14, 15], ['##ve', 15, 17],
  ]);
  // Decomposed input: the combining acute (index 4) is dropped, "cafe" maps to the 4 base letters.
  assert.deepEqual(pieces(uncased, 'Cafe\u0301'), [['cafe', 0, 4]]);
});

test('unicode punctuation, CJK and astral characters are single tokens with UTF-16 offsets', () => {
  assert.deepEqual(pieces(uncased, '「x」—¿'), [['「', 0, 1], ['x', 1, 2], ['」', 2, 3], ['—', 3, 4], ['¿', 4, 5]]);
  assert.deepEqual(pieces(uncased, 'a中国人b'), [['a', 0, 1], ['中', 1, 2], ['国', 2, 3], ['人', 3, 4], ['b', 4, 5]]);
  assert.deepEqual(pieces(uncased, '𠀀 🙂'), [['𠀀', 0, 2], ['🙂', 3, 5]]);
  // Emoji is not punctuation: "x🙂y" is one word that cannot be segmented -> [UNK] over the whole word.
  assert.deepEqual(pieces(uncased, 'x🙂y'), [['[UNK]', 0, 4]]);
});

test('characters that NFD-expand map every piece back to the original character', () => {
  // 한 -> ᄒ ᅡ ᆫ, 국 -> ᄀ ᅮ ᆨ, 어 -> ᄋ ᅥ when uncased (NFD); cased keeps the syllables.
  assert.deepEqual(pieces(uncased, '한국어'), [
    ['ᄒ', 0, 1], ['##ᅡ', 0, 1], ['##ᆫ', 0, 1], ['##ᄀ', 1, 2], ['##ᅮ', 1, 2], ['##ᆨ', 1, 2], ['##ᄋ', 2, 3], ['##ᅥ', 2, 3],
  ]);
  assert.deepEqual(pieces(cased, '한국어'), [['한', 0, 1], ['##국', 1, 2], ['##어', 2, 3]]);
  // İ -> I + U+0307 -> (strip) I -> i; Greek capitals lower-case per character (final sigma stays σ, as HF's Rust).
  assert.deepEqual(pieces(uncased, 'İ'), [['i', 0, 1]]);
  assert.deepEqual(pieces(uncased, 'ΟΔΟΣ'), [['ο', 0, 1], ['##δ', 1, 2], ['##ο', 2, 3], ['##σ', 3, 4]]);
});

test('words over 100 characters become [UNK]; exactly 100 are segmented', () => {
  const long = 'a'.repeat(150);
  assert.deepEqual(pieces(uncased, `x ${long} y`), [['x', 0, 1], ['[UNK]', 2, 152], ['y', 153, 154]]);
  const hundred = uncased.tokenize('a'.repeat(100));
  assert.equal(hundred.length, 100);
  assert.deepEqual(hundred, ['a', ...Array(99).fill('##a')]);
  assert.deepEqual(uncased.tokenize('a'.repeat(101)), ['[UNK]']);
  // The limit counts code points, not UTF-16 units: 👍 + 99 × 🏽 (200 units) is segmented, one more is not.
  assert.deepEqual(uncased.tokenize('👍' + '🏽'.repeat(99)), ['👍', ...Array(99).fill('##🏽')]);
  assert.deepEqual(uncased.tokenize('👍' + '🏽'.repeat(100)), ['[UNK]']);
});

test('empty, whitespace-only and control-character input', () => {
  for (const text of ['', '   \t\n  ', '\u0000\u0001\ufffd']) {
    assert.deepEqual(uncased.tokenize(text), []);
    const e = uncased.encode(text);
    assert.deepEqual(e.tokens, ['[CLS]', '[SEP]']);
    assert.deepEqual([...e.inputIds], [uncased.clsId, uncased.sepId]);
  }
  // Control characters are removed inside a word without splitting it; offsets skip them.
  assert.deepEqual(pieces(uncased, 'a\u0001b\u0000c'), [['a', 0, 1], ['##b', 2, 3], ['##c', 4, 5]]);
  // Tabs, newlines, NBSP, em space and line separator all separate words.
  assert.deepEqual(uncased.tokenize('a\tb\nc\u00a0d\u2003e\u2028f'), ['a', 'b', 'c', 'd', 'e', 'f']);
});

test('pair encoding: [CLS] a [SEP] b [SEP] with token type ids and sequence ids', () => {
  const e = uncased.encode('hello', 'world');
  assert.deepEqual(e.tokens, ['[CLS]', 'hello', '[SEP]', 'world', '[SEP]']);
  assert.deepEqual([...e.tokenTypeIds], [0, 0, 0, 1, 1]);
  assert.deepEqual([...e.attentionMask], [1, 1, 1, 1, 1]);
  assert.deepEqual(e.sequenceIds, [null, 0, null, 1, null]);
  assert.deepEqual(e.offsets, [[0, 0], [0, 5], [0, 0], [0, 5], [0, 0]]);
});

test('pair truncation strategies (budget = maxLength - 3)', () => {
  const a = 'the of and in to'; // 5 tokens
  const b = 'was for on as by with that'; // 7 tokens
  const lens = (e: ReturnType<typeof uncased.encode>): [number, number] => [
    e.sequenceIds.filter((s) => s === 0).length,
    e.sequenceIds.filter((s) => s === 1).length,
  ];
  // budget 7 < 5 + 7 and the shorter (5) is more than half: both cut to 3 + 4.
  assert.deepEqual(lens(uncased.encode(a, b, { maxLength: 10, truncation: 'longest_first' })), [3, 4]);
  // budget 11: the shorter (5) fits in half, the longer gets 11 - 5 = 6.
  assert.deepEqual(lens(uncased.encode(a, b, { maxLength: 14 })), [5, 6]);
  assert.deepEqual(lens(uncased.encode(a, b, { maxLength: 10, truncation: 'only_second' })), [5, 2]);
  assert.deepEqual(lens(uncased.encode(a, b, { maxLength: 14, truncation: 'only_first' })), [4, 7]);
  assert.throws(() => uncased.encode(a, b, { maxLength: 10, truncation: 'only_first' }), TruncationError);
  assert.throws(() => uncased.encode(a, null, { maxLength: 4, truncation: 'only_second' }), TruncationError);
  assert.throws(() => uncased.encode(a, b, { maxLength: 2 }), TruncationError);
  // No truncation without maxLength, and untouched when it fits.
  assert.deepEqual(lens(uncased.encode(a, b)), [5, 7]);
  assert.deepEqual(lens(uncased.encode(a, b, { maxLength: 15 })), [5, 7]);
  const single = uncased.encode(b, null, { maxLength: 5 });
  assert.deepEqual(single.tokens, ['[CLS]', 'was', 'for', 'on', '[SEP]']);
});

test('padding to max_length and batch padding to the longest', () => {
  const e = uncased.encode('hello', null, { maxLength: 6, padding: 'max_length' });
  assert.deepEqual(e.tokens, ['[CLS]', 'hello', '[SEP]', '[PAD]', '[PAD]', '[PAD]']);
  assert.deepEqual([...e.attentionMask], [1, 1, 1, 0, 0, 0]);
  assert.deepEqual([...e.inputIds].slice(3), [uncased.padId, uncased.padId, uncased.padId]);
  assert.deepEqual(e.sequenceIds.slice(3), [null, null, null]);
  assert.deepEqual(e.offsets.slice(3), [[0, 0], [0, 0], [0, 0]]);
  const batch = uncased.encodeBatch(['hello', 'hello world', ['the', 'of of']], { padding: 'longest' });
  assert.deepEqual(batch.map((x) => x.inputIds.length), [6, 6, 6]);
  assert.deepEqual([...batch[0]!.attentionMask], [1, 1, 1, 0, 0, 0]);
  assert.deepEqual([...batch[2]!.tokenTypeIds], [0, 0, 0, 1, 1, 1]);
  assert.throws(() => uncased.encode('hello', null, { padding: 'max_length' }), TokenizerError);
});

test('decode joins ## pieces, cleans " ." and can skip special tokens', () => {
  const e = uncased.encode('Einstein was a [MASK]-born scientist.');
  assert.equal(uncased.decode(e.inputIds), '[CLS] einstein was a [MASK] - born scientist. [SEP]');
  assert.equal(uncased.decode(e.inputIds, { skipSpecialTokens: true }), 'einstein was a - born scientist.');
  assert.equal(uncased.decode(e.inputIds, { skipSpecialTokens: true, cleanup: false }), 'einstein was a - born scientist .');
  assert.equal(cased.decode(cased.encode('Café Müller naïve').inputIds, { skipSpecialTokens: true }), 'Café Müller naïve');
});

test('id helpers and special ids', () => {
  assert.equal(uncased.vocabSize, uncased.config.vocab.length);
  assert.deepEqual([uncased.padId, uncased.unkId, uncased.clsId, uncased.sepId, uncased.maskId], [0, 1, 2, 3, 4]);
  const ids = uncased.convertTokensToIds(['hello', '##stein', 'no-such-token']);
  assert.equal(uncased.idToToken(ids[0]!), 'hello');
  assert.equal(uncased.idToToken(ids[1]!), '##stein');
  assert.equal(ids[2], uncased.unkId);
  assert.equal(uncased.idToToken(uncased.vocabSize), undefined);
  assert.deepEqual(uncased.convertIdsToTokens([2, 3]), ['[CLS]', '[SEP]']);
  assert.throws(() => uncased.convertIdsToTokens([uncased.vocabSize]), TokenizerError);
  assert.ok(uncased.isSpecialId(uncased.maskId) && !uncased.isSpecialId(ids[0]!));
});
