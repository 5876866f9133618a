// Tests of the BM25 baseline: the analyser, the score against a hand computation of the Okapi/Lucene formula,
// top-k search against brute-force scoring of every block, and ranking sanity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bm25Builder, buildBlockBm25, buildBm25, BM25_DEFAULTS } from '../../src/retriever/bm25.js';
import { createAnalyzer, LUCENE_STOPWORDS, NLTK_STOPWORDS } from '../../src/retriever/bm25Analyzer.js';

test('analyser: lower-case, accents stripped, punctuation splits, stop words dropped', () => {
  const a = createAnalyzer();
  assert.deepEqual(a('Who wrote "Les Misérables" in 1862?'), ['wrote', 'les', 'miserables', '1862']);
  assert.deepEqual(a("Pelé's U.S.-born co-star"), ['pele', 'u', 'born', 'co', 'star']);
  assert.deepEqual(createAnalyzer({ stopwords: LUCENE_STOPWORDS })('Who is the king of Spain'), ['who', 'king', 'spain']);
  assert.deepEqual(a(''), []);
});

test('bm25: score equals a hand computation of the formula (k1 = 0.9, b = 0.4)', async () => {
  // analysed terms (NLTK stop words removed): d0 = [cat, sat, mat] (3), d1 = [cat, cat, chased, dog] (4),
  // d2 = [dog, barked] (2); avgdl = 3, N = 3
  const index = await buildBm25(['The cat sat on the mat.', 'A cat, a cat chased the dog!', 'Dog barked.']);
  assert.equal(index.size, 3);
  assert.equal(index.avgdl, 3);
  assert.equal(index.documentFrequency('cat'), 2);
  const { k1, b } = BM25_DEFAULTS;
  const idf = (df: number): number => Math.log(1 + (3 - df + 0.5) / (df + 0.5));
  const tfw = (tf: number, dl: number): number => (tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * dl) / 3));
  // query "cat dog": d1 has cat×2, dog×1, length 4
  const expectD1 = idf(2) * tfw(2, 4) + idf(2) * tfw(1, 4);
  // hand numbers: idf(2) = ln(1 + 1.5/2.5) = ln 1.6 = 0.470004; tfw(2,4) = 3.8/(2 + 0.9·(0.6 + 0.4·4/3)) = 3.8/3.02
  assert.ok(Math.abs(idf(2) - 0.4700036292457356) < 1e-12);
  assert.ok(Math.abs(tfw(2, 4) - 3.8 / 3.02) < 1e-12);
  assert.ok(Math.abs(index.score('cat dog', 1) - expectD1) < 1e-5);
  const expectD0 = idf(2) * tfw(1, 3);
  const expectD2 = idf(2) * tfw(1, 2);
  assert.ok(Math.abs(index.score('cat dog', 0) - expectD0) < 1e-5);
  const hits = index.search('cat dog', 10);
  assert.deepEqual(Array.from(hits.ids), [1, 2, 0]);
  const expected = [expectD1, expectD2, expectD0];
  hits.scores.forEach((s, i) => assert.ok(Math.abs(s - expected[i]) < 1e-5, `score ${i}`));
  // repeated query terms count per occurrence; unknown terms and stop words score nothing
  assert.ok(Math.abs(index.score('cat cat', 0) - 2 * expectD0) < 1e-5);
  assert.equal(index.search('unicorn the of', 5).ids.length, 0);
});

test('bm25: search top-k equals brute-force ranking of all blocks (ties by lower id)', () => {
  let s = 42;
  const r = (): number => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const vocab = Array.from({ length: 60 }, (_, i) => `w${i}`);
  const zipf = (): string => vocab[Math.floor(vocab.length * r() ** 2.5)];
  const docs = Array.from({ length: 500 }, () => Array.from({ length: 5 + Math.floor(r() * 60) }, zipf).join(' '));
  const builder = new Bm25Builder({ k1: 1.2, b: 0.75 });
  docs.forEach((d, i) => assert.equal(builder.add(d), i));
  const index = builder.build();
  for (let q = 0; q < 40; q++) {
    const query = Array.from({ length: 1 + Math.floor(r() * 4) }, zipf).join(' ');
    const brute = docs.map((_, i) => ({ i, s: index.score(query, i) })).filter((x) => x.s > 0);
    // scoreMany (binary search per block) equals the brute-force score of every block, in any order
    const order = docs.map((_, i) => (i * 37) % docs.length);
    const many = index.scoreMany(query, order);
    order.forEach((id, j) => assert.ok(Math.abs(many[j] - index.score(query, id)) < 1e-9, `scoreMany ${query} block ${id}`));
    brute.sort((a, c) => c.s - a.s || a.i - c.i);
    for (const k of [1, 7, 50, 1000]) {
      const hits = index.search(query, k);
      const want = brute.slice(0, k);
      assert.equal(hits.ids.length, want.length);
      for (let j = 0; j < want.length; j++) {
        assert.ok(Math.abs(hits.scores[j] - want[j].s) < 1e-4, `query ${query} k ${k} rank ${j}`);
        if (j > 0) assert.ok(hits.scores[j] <= hits.scores[j - 1]);
      }
      // same set of ids up to float ties
      const cut = want.length ? want[want.length - 1].s : 0;
      const strict = new Set(want.filter((x) => x.s > cut + 1e-4).map((x) => x.i));
      for (const id of strict) assert.ok(Array.from(hits.ids).includes(id));
    }
  }
});

test('bm25: ranking sanity — rare matching terms and shorter blocks win', async () => {
  const index = await buildBm25([
    'Paris is the capital and largest city of France.',
    'Berlin is the capital of Germany.',
    'France France France borders Spain, Belgium and many other countries in Europe, a long text about geography.',
    'The Eiffel Tower is in Paris.',
  ]);
  assert.equal(index.search('What is the capital of France?', 1).ids[0], 0);
  assert.equal(index.search('Eiffel Tower', 1).ids[0], 3);
  assert.equal(index.search('capital of Germany', 1).ids[0], 1);
  assert.equal(index.search('France', 2).ids[0], 2, 'tf saturates but three occurrences still beat one');
});

test('buildBlockBm25 = the benchmarks\' baseline: default k1 / b, NLTK stopwords, title + text per block', () => {
  const blocks = [
    { title: 'Albert Einstein', text: 'a German-born theoretical physicist' },
    { title: 'Ulm', text: 'a city in Germany where Einstein was born' },
    { title: 'Physics', text: 'the natural science of matter and the theory of its motion' },
  ];
  const ref = new Bm25Builder({ ...BM25_DEFAULTS, analyzer: { stopwords: NLTK_STOPWORDS } });
  for (const b of blocks) ref.add(`${b.title} ${b.text}`);
  const want = ref.build().search('where was Einstein born', 3);
  const got = buildBlockBm25(blocks).search('where was Einstein born', 3);
  assert.deepEqual(Array.from(got.ids), Array.from(want.ids));
  assert.deepEqual(Array.from(got.scores), Array.from(want.scores));
  assert.equal(got.ids[0], 1, 'the block with title and text matching ranks first');
});
