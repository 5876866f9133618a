// Compares BertTokenizer against HuggingFace BertTokenizerFast outputs recorded by
// test/fixtures/tokenizer/generate_reference.py: ids, UTF-16 offsets, word ids, token type ids, attention masks and
// sequence ids must be identical, for a hand-written vocab (uncased and cased), for a vocab trained by HF `tokenizers`
// on SQuAD dev (loaded from HF's own tokenizer.json), for pairs under every truncation strategy, padding and decode.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BertTokenizer } from '../../src/tokenizer/bertTokenizer.js';
import { TruncationError } from '../../src/tokenizer/errors.js';
import type { EncodeOptions, Encoding } from '../../src/tokenizer/encoding.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/tokenizer/${name}`, import.meta.url));

interface RefCase {
  tokenizer: string;
  text: string;
  pair?: string;
  options?: EncodeOptions;
  error?: string;
  ids?: number[];
  offsets?: number[];
  wordIds?: (number | null)[];
  typeIds?: number[];
  mask?: number[];
  seqIds?: (number | null)[];
}
interface Ref {
  cases: RefCase[];
  batches: { tokenizer: string; texts: string[]; ids: number[][]; mask: number[][] }[];
  decodes: { tokenizer: string; ids: number[]; text: string; skipSpecial: string }[];
}

const ref = JSON.parse(readFileSync(fixture('hf_reference.json'), 'utf8')) as Ref;
const tokenizers: Record<string, BertTokenizer> = {
  hand_uncased: BertTokenizer.fromVocabFile(fixture('hand_vocab.txt'), { doLowerCase: true }),
  hand_cased: BertTokenizer.fromVocabFile(fixture('hand_vocab.txt'), { doLowerCase: false }),
  trained: BertTokenizer.fromTokenizerJson(fixture('trained_tokenizer.json')),
};

function compare(c: RefCase, enc: Encoding): string | null {
  const got = {
    ids: [...enc.inputIds],
    offsets: enc.offsets.flat(),
    wordIds: enc.wordIds,
    typeIds: [...enc.tokenTypeIds],
    mask: [...enc.attentionMask],
    seqIds: enc.sequenceIds,
  };
  for (const key of ['ids', 'offsets', 'wordIds', 'typeIds', 'mask', 'seqIds'] as const) {
    const want = c[key];
    if (want === undefined) continue;
    if (JSON.stringify(got[key]) !== JSON.stringify(want)) {
      return `${key}: got ${JSON.stringify(got[key])}\n  want ${JSON.stringify(want)}\n  tokens ${JSON.stringify(enc.tokens)}`;
    }
  }
  if (c.typeIds === undefined) {
    // Single sequence without padding: type ids all 0, mask all 1, sequence ids 0 / null for [CLS] [SEP].
    if (got.typeIds.some((t) => t !== 0) || got.mask.some((m) => m !== 1)) return 'type ids / mask of a single sequence';
  }
  return null;
}

function runCases(filter: (c: RefCase) => boolean): void {
  const failures: string[] = [];
  let n = 0;
  for (const c of ref.cases.filter(filter)) {
    n++;
    const tok = tokenizers[c.tokenizer]!;
    const label = `[${c.tokenizer}] ${JSON.stringify(c.text.slice(0, 60))}${c.pair ? ' + pair' : ''} ${JSON.stringify(c.options ?? {})}`;
    if (c.error) {
      try {
        tok.encode(c.text, c.pair, c.options);
        failures.push(`${label}: HF raised ${c.error}, we did not`);
      } catch (e) {
        if (!(e instanceof TruncationError)) failures.push(`${label}: expected TruncationError, got ${String(e)}`);
      }
      continue;
    }
    let enc: Encoding;
    try {
      enc = tok.encode(c.text, c.pair, c.options);
    } catch (e) {
      failures.push(`${label}: threw ${String(e)}`);
      continue;
    }
    const diff = compare(c, enc);
    if (diff) failures.push(`${label}: ${diff}`);
  }
  assert.ok(n > 0, 'no reference cases selected');
  assert.equal(failures.length, 0, `${failures.length}/${n} cases differ from HF:\n${failures.slice(0, 8).join('\n')}`);
}

test('hand vocab, uncased: ids, offsets and word ids equal BertTokenizerFast', () => {
  runCases((c) => c.tokenizer === 'hand_uncased');
});

test('hand vocab, cased: ids, offsets and word ids equal BertTokenizerFast', () => {
  runCases((c) => c.tokenizer === 'hand_cased');
});

test('HF-trained vocab (tokenizer.json): single sequences equal BertTokenizerFast', () => {
  runCases((c) => c.tokenizer === 'trained' && c.pair === undefined && c.options === undefined);
});

test('pairs, truncation strategies and max_length padding equal BertTokenizerFast', () => {
  runCases((c) => c.tokenizer === 'trained' && (c.pair !== undefined || c.options !== undefined));
});

test('encodeBatch padding to the longest equals BertTokenizerFast', () => {
  for (const b of ref.batches) {
    const encs = tokenizers[b.tokenizer]!.encodeBatch(b.texts, { padding: 'longest' });
    assert.deepEqual(encs.map((e) => [...e.inputIds]), b.ids);
    assert.deepEqual(encs.map((e) => [...e.attentionMask]), b.mask);
  }
});

test('decode (with and without special tokens) equals BertTokenizerFast', () => {
  for (const d of ref.decodes) {
    const tok = tokenizers[d.tokenizer]!;
    assert.equal(tok.decode(d.ids), d.text);
    assert.equal(tok.decode(d.ids, { skipSpecialTokens: true }), d.skipSpecial);
  }
});
