// WordPiece model against a brute-force reference: the greedy longest-match-first loop of google-research/bert
// tokenization.py (WordpieceTokenizer.tokenize, substring search from the longest candidate down), run on random
// vocabularies and random words, including astral characters (never split inside a surrogate pair).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WordPieceModel } from '../../src/tokenizer/wordpiece.js';

/** Reference: BERT's WordpieceTokenizer over code points. Returns [token, startCp, endCp][] or null for [UNK]. */
function reference(word: string, vocab: Set<string>, maxChars: number): string[] | null {
  const chars = [...word];
  if (chars.length > maxChars) return null;
  const out: string[] = [];
  let start = 0;
  while (start < chars.length) {
    let end = chars.length;
    let cur: string | null = null;
    while (start < end) {
      let sub = chars.slice(start, end).join('');
      if (start > 0) sub = '##' + sub;
      if (vocab.has(sub)) {
        cur = sub;
        break;
      }
      end--;
    }
    if (cur === null) return null;
    out.push(cur);
    start = end;
  }
  return out;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('greedy longest-match-first equals the BERT reference on random vocabularies and words', () => {
  const alphabet = ['a', 'b', 'c', 'd', 'é', '😀', '𝔘'];
  for (let trial = 0; trial < 20; trial++) {
    const r = rng(1000 + trial);
    const pick = (n: number): string => Array.from({ length: n }, () => alphabet[Math.floor(r() * alphabet.length)]!).join('');
    const vocab = new Set<string>(['[UNK]']);
    for (let i = 0; i < 60; i++) {
      const piece = pick(1 + Math.floor(r() * 4));
      vocab.add(r() < 0.5 ? piece : '##' + piece);
    }
    const list = [...vocab];
    const maxChars = 6 + (trial % 5);
    const model = new WordPieceModel(list, { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: maxChars });
    for (let w = 0; w < 300; w++) {
      const word = pick(1 + Math.floor(r() * 10));
      const got = model.encodeWord(word);
      const want = reference(word, vocab, maxChars);
      const gotTokens: string[] = [];
      for (let i = 0; i < got.length; i += 2) gotTokens.push(list[got[i]!]!);
      if (want === null) {
        assert.deepEqual(gotTokens, ['[UNK]'], word);
        assert.equal(got[1], word.length);
        continue;
      }
      assert.deepEqual(gotTokens, want, word);
      // Piece ends are UTF-16 offsets that rebuild the word without splitting surrogate pairs.
      let prev = 0;
      for (let i = 0; i < got.length; i += 2) {
        const piece = word.slice(prev, got[i + 1]!);
        assert.equal(piece, want[i / 2]!.replace(/^##/, ''));
        prev = got[i + 1]!;
      }
      assert.equal(prev, word.length);
    }
  }
});

test('unknown unk token is a clear error', () => {
  assert.throws(() => new WordPieceModel(['a'], { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 }), /\[UNK\]/);
});
