/**
 * Salient span detection (REALM §3.4): date patterns against hand-listed expectations, named entities from
 * compromise on real sentences, overlap resolution, and sentence assignment on a passage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findDateSpans, findSalientSpans, resolveOverlaps, salientSpansBySentence } from '../../src/realm/spans.js';

const texts = (t: string, spans: Array<{ start: number; end: number }>): string[] => spans.map((s) => t.slice(s.start, s.end));

test('date patterns: full dates, month-year, ranges, decades, centuries, eras, bare years', () => {
  const cases: Array<[string, string[]]> = [
    ['Albert Einstein was born on March 14, 1879 in Ulm.', ['March 14, 1879']],
    ['The treaty was signed on 28 June 1919.', ['28 June 1919']],
    ['He moved to Berlin in March 1921.', ['March 1921']],
    ['Einstein (1879–1955) was a physicist.', ['1879–1955']],
    ['The war lasted 1914-18 in Europe.', ['1914-18']],
    ['Railways spread in the 1870s.', ['1870s']],
    ['It was built in the 19th century by monks.', ['19th century']],
    ['Vesuvius erupted in 79 AD and again in AD 472.', ['79 AD', 'AD 472']],
    ['Rome was founded in 753 BC.', ['753 BC']],
    ['He died in 1955, aged 76.', ['1955']],
    ['On July 4 the city celebrates.', ['July 4']],
    ['From 2009 to 2017 he served.', ['2009', '2017']],
  ];
  for (const [t, want] of cases) assert.deepEqual(texts(t, findDateSpans(t)), want, t);
});

test('date patterns reject numbers that are not dates and parts of longer tokens', () => {
  for (const t of ['The city has 12345 inhabitants.', 'Model A1879 was sold.', 'It weighs 250 kg.', 'The room 19870 is closed.', 'May I come in?']) {
    assert.deepEqual(findDateSpans(t), [], t);
  }
});

test('entities: people, places, organisations and untyped proper nouns on real sentences', () => {
  const cases: Array<[string, Array<[string, string]>]> = [
    ['Albert Einstein was born in Ulm in 1879.', [['Albert Einstein', 'person'], ['Ulm', 'proper'], ['1879', 'date']]],
    ['Microsoft was founded by Bill Gates and Paul Allen on April 4, 1975.',
      [['Microsoft', 'organization'], ['Bill Gates', 'person'], ['Paul Allen', 'person'], ['April 4, 1975', 'date']]],
    ['He moved to New York City in March 1921 and joined the Ford Motor Company.',
      [['New York City', 'place'], ['March 1921', 'date'], ['Ford Motor Company', 'organization']]],
  ];
  for (const [t, want] of cases) {
    const got = findSalientSpans(t).map((s) => [t.slice(s.start, s.end), s.kind]);
    assert.deepEqual(got, want, t);
  }
});

test('entities: possessives are cut, names are split at commas, "of" joins a name', () => {
  const t = "Einstein's paper reached the Prussian Academy of Sciences in Berlin, Germany.";
  const got = texts(t, findSalientSpans(t));
  assert.ok(got.includes('Einstein'), `possessive cut: ${JSON.stringify(got)}`);
  assert.ok(got.includes('Prussian Academy of Sciences'), JSON.stringify(got));
  assert.ok(got.includes('Berlin') && got.includes('Germany'), `comma splits: ${JSON.stringify(got)}`);
  assert.ok(!got.some((s) => s.includes(',')), JSON.stringify(got));
});

test('resolveOverlaps keeps the longest span of an overlapping group and sorts by start', () => {
  const out = resolveOverlaps([
    { start: 14, end: 24, kind: 'place' }, { start: 4, end: 24, kind: 'proper' }, { start: 30, end: 34, kind: 'date' },
    { start: 0, end: 3, kind: 'proper' }, { start: 2, end: 5, kind: 'date' },
  ]);
  // by hand: [4,24) (longest) beats [14,24); [30,34) is free; [2,5) (a date, tried before the equally long
  // proper noun [0,3)) overlaps [4,24) and goes; [0,3) is free
  assert.deepEqual(out.map((s) => [s.start, s.end, s.kind]), [[0, 3, 'proper'], [4, 24, 'proper'], [30, 34, 'date']]);
});

test('salientSpansBySentence assigns spans to the sentences of a passage', () => {
  const t = 'The University of Oxford is in England. Later Tolkien taught there from 1925 to 1945. It rained.';
  const bySent = salientSpansBySentence(t);
  assert.equal(bySent.length, 3);
  assert.deepEqual(texts(t, bySent[0].spans), ['University of Oxford', 'England']);
  assert.deepEqual(texts(t, bySent[1].spans), ['Tolkien', '1925', '1945']);
  assert.deepEqual(bySent[2].spans, []);
  for (const s of bySent) for (const sp of s.spans) assert.ok(sp.start >= s.sentence.start && sp.end <= s.sentence.end);
});
