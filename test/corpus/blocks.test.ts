// Tests of REALM block cutting: no block exceeds 288 wordpieces with [CLS] title [SEP] text [SEP], offsets map
// back to the exact document text, all content is covered in order, sentence boundaries are preferred, and
// over-long sentences/words/titles are split. Uses a BERT-like stand-in tokenizer (whitespace + punctuation
// split, then 4-character pieces) so the test does not depend on a vocabulary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cutBlocks, cutCorpus, REALM_BLOCK_CONFIG, type Block, type TokenizerLike } from '../../src/corpus/blocks.js';
import { splitSentences } from '../../src/corpus/sentences.js';
import type { CorpusDoc } from '../../src/corpus/types.js';

/** Stand-in WordPiece: basic tokenisation on whitespace/punctuation, then pieces of at most 4 characters. */
const fakeTokenizer: TokenizerLike = {
  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const w of text.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? []) {
      for (let i = 0; i < w.length; i += 4) out.push(i === 0 ? w.slice(0, 4) : `##${w.slice(i, i + 4)}`);
    }
    return out;
  },
};
const count = (s: string): number => fakeTokenizer.tokenize(s).length;

/** Deterministic pseudo-random generator (LCG). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function randomDoc(seed: number, sentences: number): CorpusDoc {
  const r = rng(seed);
  const words = ['the', 'Einstein', 'relativity', 'Zürich', 'quantum', 'of', 'photons', 'in', '1905', 'Dr.', 'mass-energy', 'e.g.'];
  const parts: string[] = [];
  for (let i = 0; i < sentences; i++) {
    const n = 3 + Math.floor(r() * 30);
    const ws = Array.from({ length: n }, () => words[Math.floor(r() * words.length)]);
    ws[0] = ws[0][0].toUpperCase() + ws[0].slice(1);
    parts.push(ws.join(' ') + (r() < 0.8 ? '.' : '!'));
    parts.push(r() < 0.1 ? '\n\n' : ' ');
  }
  return { id: `doc${seed}`, title: 'Albert Einstein', text: parts.join('') };
}

function checkBlocks(doc: CorpusDoc, blocks: Block[], max = REALM_BLOCK_CONFIG.maxTokens): void {
  let prevEnd = 0;
  for (const b of blocks) {
    assert.equal(b.docId, doc.id);
    assert.equal(b.text, doc.text.slice(b.start, b.end), 'offsets map back to the text');
    assert.ok(3 + count(b.title) + count(b.text) <= max, `block has ${3 + count(b.title) + count(b.text)} wordpieces`);
    assert.ok(b.start >= prevEnd, 'blocks in order, not overlapping');
    assert.match(doc.text.slice(prevEnd, b.start), /^\s*$/, 'only whitespace between blocks');
    assert.ok(b.text.length > 0 && b.text.trim() === b.text);
    prevEnd = b.end;
  }
  assert.match(doc.text.slice(prevEnd), /^\s*$/, 'all content covered');
}

test('blocks: never more than 288 wordpieces, offsets exact, content covered, cut at sentence ends', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const doc = randomDoc(seed, 80);
    const blocks = cutBlocks(doc, fakeTokenizer);
    checkBlocks(doc, blocks);
    assert.ok(blocks.length >= 2, 'a long document gives several blocks');
    const sentenceEnds = new Set(splitSentences(doc.text).map((s) => s.end));
    for (const b of blocks) assert.ok(sentenceEnds.has(b.end), 'every block ends at a sentence end (sentences all fit)');
    // greedy packing: adding the next sentence would overflow
    const budget = REALM_BLOCK_CONFIG.maxTokens - 3 - count(doc.title);
    const sents = splitSentences(doc.text);
    for (const b of blocks.slice(0, -1)) {
      const next = sents.find((s) => s.start >= b.end)!;
      assert.ok(count(doc.text.slice(b.start, next.end)) > budget);
    }
  }
});

test('blocks: an over-long sentence is split on words, a giant word on characters, a long title is shortened', () => {
  const longSentence = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ') + '.';
  const giant = 'x'.repeat(3000);
  const doc: CorpusDoc = { id: 'long', title: 'Title', text: `Short one. ${longSentence} ${giant} End.` };
  const blocks = cutBlocks(doc, fakeTokenizer);
  checkBlocks(doc, blocks);
  assert.equal(blocks[0].text.startsWith('Short one. word0'), true, 'short sentence packed with the start of the long one');
  assert.ok(blocks.some((b) => /^x+$/.test(b.text)), 'giant word cut by characters');
  const longTitle: CorpusDoc = { id: 't', title: Array.from({ length: 200 }, () => 'title').join(' '), text: 'Body text.' };
  const tb = cutBlocks(longTitle, fakeTokenizer);
  assert.equal(tb.length, 1);
  assert.ok(count(tb[0].title) <= REALM_BLOCK_CONFIG.maxTitleTokens);
  assert.ok(longTitle.title.startsWith(tb[0].title));
  checkBlocks(longTitle, tb);
});

test('blocks: small maxTokens, blank text, count function and corpus streaming', async () => {
  const doc = randomDoc(99, 30);
  const config = { maxTokens: 40, maxTitleTokens: 8 };
  const blocks = cutBlocks(doc, count, config);
  checkBlocks(doc, blocks, 40);
  assert.deepEqual(cutBlocks({ id: 'e', title: 'Empty', text: '  \n ' }, count), []);
  assert.throws(() => cutBlocks(doc, count, { maxTokens: 20, maxTitleTokens: 16 }), /too little room/);
  async function* docs() {
    yield doc;
    yield { id: 'e', title: 'E', text: '' };
    yield randomDoc(7, 10);
  }
  const streamed: Block[] = [];
  for await (const b of cutCorpus(docs(), fakeTokenizer, config)) streamed.push(b);
  assert.deepEqual(streamed, [...blocks, ...cutBlocks(randomDoc(7, 10), fakeTokenizer, config)]);
});

test('sentences: abbreviations and initials do not split; line breaks do', () => {
  const text = 'Dr. Smith met J. K. Rowling in St. Louis. It rained!\nNew line here. e.g. this stays. "Quoted." Next one.';
  const got = splitSentences(text).map((s) => text.slice(s.start, s.end));
  assert.deepEqual(got, ['Dr. Smith met J. K. Rowling in St. Louis.', 'It rained!', 'New line here. e.g. this stays.', '"Quoted."', 'Next one.']);
});
