/**
 * Masking (REALM §3.4 and its ablations) with a real WordPiece tokenizer (the HF-trained fixture, where "Einstein" is
 * four pieces): salient spans are masked whole, mapped through the tokenizer's offsets; labels hold the original ids;
 * random-span masks whole contiguous words; random-token follows BERT's 15% / 80-10-10 scheme.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Rng } from '../../src/engine/index.js';
import { BertTokenizer } from '../../src/tokenizer/index.js';
import {
  IGNORE_LABEL, MASKING_DEFAULTS, maskPassage, maskRandomSpan, maskRandomTokens, maskSalient, type MaskedExample,
} from '../../src/realm/masking.js';
import { findSalientSpans } from '../../src/realm/spans.js';

const tok = BertTokenizer.fromTokenizerJson(join(new URL('../fixtures/tokenizer', import.meta.url).pathname, 'trained_tokenizer.json'));

/** Checks the example against a fresh tokenisation: unmasked ids equal, labels = originals exactly at targets. */
function checkConsistent(ex: MaskedExample): void {
  const orig = tok.encodeSequence(ex.text).ids;
  assert.equal(ex.inputIds.length, Math.min(orig.length, MASKING_DEFAULTS.maxTokens));
  const targets = new Set(ex.maskedPositions);
  for (let i = 0; i < ex.inputIds.length; i++) {
    if (targets.has(i)) assert.equal(ex.labels[i], orig[i]);
    else {
      assert.equal(ex.labels[i], IGNORE_LABEL);
      assert.equal(ex.inputIds[i], orig[i]);
    }
  }
}

test('salient masking of "Albert Einstein was born in Ulm in 1879." masks each whole span, and only it', () => {
  const s = 'Albert Einstein was born in Ulm in 1879.';
  const spans = findSalientSpans(s);
  const seen = new Map<string, number>();
  const rng = new Rng(7);
  for (let i = 0; i < 60; i++) {
    const ex = maskSalient(s, spans, tok, rng)!;
    checkConsistent(ex);
    seen.set(ex.answer, (seen.get(ex.answer) ?? 0) + 1);
    // every piece of the span and nothing else: the masked pieces are exactly the tokenisation of the answer
    assert.deepEqual([...ex.maskedPositions].map((p) => ex.labels[p]), tok.encodeSequence(ex.answer).ids);
    for (const p of ex.maskedPositions) assert.equal(ex.inputIds[p], tok.maskId);
    // contiguous
    for (let j = 1; j < ex.maskedPositions.length; j++) assert.equal(ex.maskedPositions[j], ex.maskedPositions[j - 1] + 1);
  }
  assert.deepEqual([...seen.keys()].sort(), ['1879', 'Albert Einstein', 'Ulm']);
  for (const n of seen.values()) assert.ok(n >= 10, `each span is chosen about a third of the time: ${JSON.stringify([...seen])}`);
  // "Albert Einstein" is 5 wordpieces with this vocabulary (albert e ##ins ##te ##in): all masked
  const ex = [...Array(30)].map(() => maskSalient(s, spans, tok, rng)!).find((e) => e.answer === 'Albert Einstein')!;
  assert.equal(ex.maskedPositions.length, 5);
  assert.equal(tok.decode(ex.inputIds), '[MASK] [MASK] [MASK] [MASK] [MASK] was born in ulm in 1879.');
});

test('salient masking: a date written with punctuation maps to its pieces; a span without pieces is skipped', () => {
  const s = 'Microsoft was founded on April 4, 1975.';
  const rng = new Rng(3);
  const ex = maskSalient(s, [{ start: 25, end: 38, kind: 'date' }], tok, rng)!;
  assert.equal(ex.answer, 'April 4, 1975');
  assert.equal(tok.decode(ex.inputIds), 'microsoft was founded on [MASK] [MASK] [MASK] [MASK].');
  checkConsistent(ex);
  // a span inside a wordpiece (no piece lies strictly inside it) gives no example
  assert.equal(maskSalient(s, [{ start: 1, end: 3, kind: 'proper' }], tok, rng), null);
  assert.equal(maskSalient('It rained.', [], tok, rng), null);
});

test('salient masking: spans beyond maxTokens are not used', () => {
  const s = 'It was cold and wet and dark for a long time before the people of Ulm came.';
  const spans = findSalientSpans(s);
  assert.deepEqual(spans.map((x) => s.slice(x.start, x.end)), ['Ulm']);
  assert.equal(maskSalient(s, spans, tok, new Rng(1), { ...MASKING_DEFAULTS, maxTokens: 8 }), null);
  assert.ok(maskSalient(s, spans, tok, new Rng(1))); // fits with the default
});

test('random-span masking masks one contiguous run of whole words, leaving context', () => {
  const s = 'The Eiffel Tower was completed in 1889 as the entrance arch to the World Fair in Paris.';
  const rng = new Rng(11);
  const enc = tok.encodeSequence(s);
  let total = 0;
  for (let i = 0; i < 200; i++) {
    const ex = maskRandomSpan(s, tok, rng)!;
    checkConsistent(ex);
    const pos = [...ex.maskedPositions];
    for (let j = 1; j < pos.length; j++) assert.equal(pos[j], pos[j - 1] + 1);
    // whole words: the pieces just outside the run belong to other words
    if (pos[0] > 0) assert.notEqual(enc.wordIds[pos[0] - 1], enc.wordIds[pos[0]]);
    const last = pos[pos.length - 1];
    if (last + 1 < enc.ids.length) assert.notEqual(enc.wordIds[last + 1], enc.wordIds[last]);
    assert.ok(pos.length < enc.ids.length);
    total += new Set(pos.map((p) => enc.wordIds[p])).size;
  }
  // geometric(0.2) clipped at 10 words: mean = Σ_{l=1..10} (1-p)^(l-1) = (1 - 0.8^10) / 0.2 ≈ 4.46
  const mean = total / 200;
  assert.ok(Math.abs(mean - (1 - 0.8 ** 10) / 0.2) < 0.6, `mean span length ${mean}`);
});

test('random-token masking: ~15% targets, 80% [MASK] / 10% random / 10% kept', () => {
  const s = 'The Eiffel Tower was completed in 1889 as the entrance arch to the World Fair in Paris, France.';
  const rng = new Rng(5);
  let targets = 0;
  let tokens = 0;
  let masked = 0;
  let kept = 0;
  for (let i = 0; i < 800; i++) {
    const ex = maskRandomTokens(s, tok, rng)!;
    tokens += ex.inputIds.length;
    for (const p of ex.maskedPositions) {
      targets++;
      assert.equal(ex.labels[p], tok.encodeSequence(s).ids[p]);
      if (ex.inputIds[p] === tok.maskId) masked++;
      else if (ex.inputIds[p] === ex.labels[p]) kept++;
      else assert.ok(!tok.isSpecialId(ex.inputIds[p]));
    }
  }
  assert.ok(Math.abs(targets / tokens - 0.15) < 0.02, `target rate ${targets / tokens}`);
  assert.ok(Math.abs(masked / targets - 0.8) < 0.04, `mask share ${masked / targets}`);
  assert.ok(Math.abs(kept / targets - 0.1) < 0.03, `kept share ${kept / targets}`);
});

test('maskPassage: one example per sentence with a span, offsets inside the passage', () => {
  const t = 'The University of Oxford is in England. Later Tolkien taught there from 1925 to 1945. It rained all day.';
  const rng = new Rng(2);
  const exs = maskPassage(t, tok, rng);
  assert.equal(exs.length, 2);
  for (const ex of exs) {
    assert.equal(t.slice(ex.sentenceSpan.start, ex.sentenceSpan.end), ex.text);
    assert.equal(ex.text.slice(ex.span.start, ex.span.end), ex.answer);
    checkConsistent(ex);
  }
  assert.ok(['University of Oxford', 'England'].includes(exs[0].answer));
  assert.ok(['Tolkien', '1925', '1945'].includes(exs[1].answer));
  const rs = maskPassage(t, tok, rng, { ...MASKING_DEFAULTS, strategy: 'random-span' });
  assert.equal(rs.length, 3);
  assert.ok(rs.every((e) => e.kind === 'random-span'));
});
