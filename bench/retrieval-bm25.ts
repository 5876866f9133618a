// Benchmark: BM25 retrieval recall@{1,5,20,100} (ORQA/DPR "top-k retrieval accuracy") on CuratedTREC test,
// WebQuestions test and SQuAD-open dev over the shared enwiki2015_first300_p100 corpus (78,686 passages, each one
// block: title + text). Answers are matched on title + text (what the reader sees; the reference run's convention)
// and, as `text_only`, on the text alone (DPR's convention). Builds the document store and the BM25 index from the streamed corpus, times every stage,
// prints a table and writes bench/results/retrieval-bm25.json. Usage:
//   node --import tsx bench/retrieval-bm25.ts [--stopwords nltk|lucene] [--vocab vocab.txt] [--out path]
// Without --vocab each 100-word passage is one block (≈130 bert-base-uncased wordpieces, far below 288); with a
// BERT vocab.txt the passages go through the REALM block cutter (blocks of <= 288 wordpieces) first.
import { mkdtempSync, rmSync, writeFileSync, renameSync, openSync, fsyncSync, closeSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSharedCorpus, sharedDataDir } from '../src/corpus/shared.js';
import { buildDocStore, DocStore } from '../src/corpus/docstore.js';
import { cutBlocks, type Block } from '../src/corpus/blocks.js';
import { BertTokenizer } from '../src/tokenizer/bertTokenizer.js';
import { Bm25Builder, BM25_DEFAULTS, type Bm25Config } from '../src/retriever/bm25.js';
import { LUCENE_STOPWORDS, NLTK_STOPWORDS } from '../src/retriever/bm25Analyzer.js';
import { loadQaSet, type QaExample, type QaSetName } from '../src/eval/qa.js';
import { recallAtK } from '../src/eval/recall.js';
import { exitOnHelp } from './lib/help.js';

exitOnHelp(import.meta.url);

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
};
const stopName = arg('stopwords', 'nltk');
const vocabPath = arg('vocab', '');
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const outPath = arg('out', join(repoRoot, 'bench', 'results', 'retrieval-bm25.json'));
const dataDir = sharedDataDir();
const KS = [1, 5, 20, 100];
const REFERENCE_R20 = { ct: 62.2, wq: 38.3, squad: 22.4 };
const REFERENCE = { ct: [53.5, 62.2, 74.2], wq: [29.0, 38.3, 49.1], squad2k: [13.2, 22.4, 34.6] }; // R@5/20/100

const config: Bm25Config = {
  ...BM25_DEFAULTS,
  analyzer: { stopwords: stopName === 'lucene' ? LUCENE_STOPWORDS : NLTK_STOPWORDS },
};
const secs = (t0: number): number => (performance.now() - t0) / 1000;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'realm-bm25-'));
  try {
    // 1. corpus → blocks → document store (each 100-word passage is one block: title + text)
    let t0 = performance.now();
    const tokenizer = vocabPath ? BertTokenizer.fromVocabFile(vocabPath) : null;
    let nDocs = 0;
    async function* blocks(): AsyncGenerator<Block> {
      for await (const d of readSharedCorpus('enwiki2015_first300_p100', { dataDir, onError: 'stop' })) {
        nDocs++;
        if (tokenizer) yield* cutBlocks(d, tokenizer);
        else yield { docId: d.id, title: d.title, text: d.text, start: 0, end: d.text.length };
      }
    }
    const storePath = join(work, 'blocks.rds');
    const nBlocks = await buildDocStore(storePath, blocks());
    const storeSecs = secs(t0);
    const store = DocStore.open(storePath);

    // 2. BM25 index over title + text, streamed from the store
    t0 = performance.now();
    const builder = new Bm25Builder(config);
    for (const b of store) builder.add(`${b.title} ${b.text}`);
    const index = builder.build();
    const indexSecs = secs(t0);
    console.log(`corpus: ${nDocs} passages → ${nBlocks} blocks${tokenizer ? ` (cut with ${vocabPath})` : ' (one per passage)'}; doc store ${storeSecs.toFixed(1)} s; BM25 index ${indexSecs.toFixed(1)} s, ${index.vocabularySize} terms, avgdl ${index.avgdl.toFixed(1)}`);

    // 3. evaluation
    const sets: Array<[string, QaSetName, (q: QaExample[]) => QaExample[]]> = [
      ['ct', 'ct_test', (q) => q],
      ['wq', 'wq_test', (q) => q],
      ['squad', 'squad_dev', (q) => q],
    ];
    const results: Record<string, unknown> = {};
    const rows: string[] = [];
    const textRows: string[] = [];
    let totalQ = 0;
    let searchSecs = 0;
    for (const [key, name, pick] of sets) {
      const questions = pick(loadQaSet(name, dataDir));
      const cached = new Map<string, Int32Array>();
      const search = (q: string, k: number): Int32Array => {
        let ids = cached.get(q);
        if (ids === undefined) {
          const ts = performance.now();
          ids = index.search(q, k).ids;
          searchSecs += secs(ts);
          cached.set(q, ids);
        }
        return ids;
      };
      const entry: Record<string, number | Record<string, number>> = {};
      for (const matchOn of ['title+text', 'text'] as const) {
        const retrieve = (q: string, k: number) =>
          store.getMany(search(q, k)).map((b) => ({ id: b.blockId, text: matchOn === 'text' ? b.text : `${b.title} ${b.text}` }));
        t0 = performance.now();
        const r = await recallAtK(retrieve, questions, KS, { warn: (m) => console.warn(m) });
        const pct = (k: number): number => Math.round(1000 * r.recall[k]) / 10;
        const e: Record<string, number> = { n: r.n, r1: pct(1), r5: pct(5), r20: pct(20), r100: pct(100), seconds: Math.round(secs(t0) * 10) / 10 };
        if (key === 'squad') {
          // the reference used a fixed 2,000-question subsample (every 5th question); report that too
          const sub = Array.from(r.firstHit).filter((_, i) => i % 5 === 0 && i < 10000);
          const sp = (k: number): number => Math.round((1000 * sub.filter((h) => h >= 0 && h < k).length) / sub.length) / 10;
          Object.assign(e, { every5th_n: sub.length, every5th_r5: sp(5), every5th_r20: sp(20), every5th_r100: sp(100) });
        }
        if (matchOn === 'title+text') {
          Object.assign(entry, e);
          rows.push(`| ${key.padEnd(5)} | ${String(r.n).padStart(6)} | ${KS.map((k) => pct(k).toFixed(1).padStart(5)).join(' | ')} | ${REFERENCE_R20[key as keyof typeof REFERENCE_R20].toFixed(1).padStart(8)} |`);
        } else {
          entry.text_only = e;
          textRows.push(`| ${key.padEnd(5)} | ${String(r.n).padStart(6)} | ${KS.map((k) => pct(k).toFixed(1).padStart(5)).join(' | ')} |`);
        }
      }
      totalQ += questions.length;
      entry.reference_r20 = REFERENCE_R20[key as keyof typeof REFERENCE_R20];
      results[key] = entry;
    }
    console.log('\n| set   |      n |   R@1 |   R@5 |  R@20 | R@100 | ref R@20 |');
    console.log('|-------|--------|-------|-------|-------|-------|----------|');
    for (const r of rows) console.log(r);
    console.log('\nanswer matched on block text only (DPR convention; the title is not searched):');
    for (const r of textRows) console.log(r);
    const sq = results.squad as Record<string, number>;
    console.log(`SQuAD every 5th of the first 10,000 questions (n=${sq.every5th_n}, as the reference): R@5/20/100 ${sq.every5th_r5} / ${sq.every5th_r20} / ${sq.every5th_r100} (reference ${REFERENCE.squad2k.join(' / ')})`);
    console.log(`BM25 search: ${totalQ} questions in ${searchSecs.toFixed(2)} s (${(totalQ / searchSecs).toFixed(0)} q/s, top-100)`);

    const json = {
      bench: 'retrieval-bm25',
      date: new Date().toISOString(),
      corpus: { name: 'enwiki2015_first300_p100', passages: nDocs, blocks: nBlocks, block_cutting: tokenizer ? vocabPath : 'one block per passage', vocabulary: index.vocabularySize, avgdl: Math.round(index.avgdl * 10) / 10 },
      bm25: { k1: config.k1, b: config.b, stopwords: stopName, analyser: 'NFKD accent strip, lower-case, split on non-letter/digit runs, no stemming; block = title + text' },
      matching: 'DrQA has_answer (lower-case, accents/punctuation/articles stripped, whole-token sequence) or CuratedTREC regex (case-insensitive) on title + text of each block (what the reader sees; reproduces the reference run); text_only: on the block text alone (DPR convention)',
      timings_s: { docstore_build: Math.round(storeSecs * 10) / 10, bm25_index_build: Math.round(indexSecs * 10) / 10, search_all_questions: Math.round(searchSecs * 100) / 100 },
      queries_per_s: Math.round(totalQ / searchSecs),
      ...results,
      reference: { source: 'shared/data/CORPUS_COVERAGE.md', r5_r20_r100: REFERENCE },
    };
    mkdirSync(dirname(outPath), { recursive: true });
    const tmp = `${outPath}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(json, null, 2)}\n`);
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, outPath);
    console.log(`wrote ${outPath}`);
    store.close();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
