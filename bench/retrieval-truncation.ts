// How much of each passage does a fixed wordpiece window see, and what would cutting it cost? (issue 5 diagnostic)
// bench/retrieval.ts embeds every passage of the shared DPR-style corpus (78,686 passages) once, as
// `[CLS] title [SEP] text [SEP]` cut to --block-len wordpieces. This counts, over ALL passages, the length of that
// input uncut (percentiles, share longer than each window), and judges BM25's own top 20 twice on the tuning rows
// (CT train[:500], WQ train[:1000]; env SETS=name:n,... to change; the test sets are never read): once on the whole
// passage (the benchmark's rule) and once on only the text inside the first L wordpieces — the answers a retriever
// reading that window could not see. Companion of bench/retrieval-maxp.ts (does a second window help the dense
// retriever?). Writes bench/results/retrieval-truncation.json and its BENCHMARKS.md section.
// Usage: node --import tsx bench/retrieval-truncation.ts [--vocab models/default/vocab.txt] [--windows 128,157,192,288]
//   [--no-write]   (the shipped vocabulary is the one every retriever in BENCHMARKS uses)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { answerMatcher } from '../src/eval/answers.js';
import { loadQaSet } from '../src/eval/qa.js';
import { BM25_DEFAULTS, buildBlockBm25 } from '../src/retriever/bm25.js';
import { readPassageBlocks } from '../src/train/ictSetup.js';
import { BertTokenizer } from '../src/tokenizer/bertTokenizer.js';
import { benchOption, exitOnHelp } from './lib/help.js';
import { machineInfo, markdownTable, updateMarkdownSection, writeJson } from './lib/report.js';

exitOnHelp(import.meta.url);
const root = new URL('..', import.meta.url).pathname;
const vocabPath = benchOption('vocab') ?? join(root, 'models/default/vocab.txt');
const windows = (benchOption('windows') ?? '128,157,192,288').split(',').map(Number);
if (!existsSync(vocabPath)) {
  console.error(`retrieval-truncation: no vocabulary at ${vocabPath} (--vocab)`);
  process.exit(2);
}
if (windows.some((w) => !Number.isInteger(w) || w < 8)) {
  console.error(`retrieval-truncation: --windows takes integers >= 8, got ${benchOption('windows')}`);
  process.exit(2);
}
const tok = BertTokenizer.fromVocabFile(vocabPath);
const blocks = await readPassageBlocks('enwiki2015_first300_p100');

// Every passage's uncut input length and, per window, the character end of the text it keeps (null = all of it).
const lens = new Int32Array(blocks.length);
const keptEnd: (number | null)[][] = windows.map(() => new Array<number | null>(blocks.length).fill(null));
blocks.forEach((b, i) => {
  const t = tok.encodeSequence(b.title).ids.length;
  const s = tok.encodeSequence(b.text);
  lens[i] = 3 + t + s.ids.length; // [CLS] title [SEP] text [SEP]
  windows.forEach((L, w) => {
    const keep = Math.max(0, L - 3 - t); // text wordpieces inside the window
    if (keep < s.ids.length) keptEnd[w]![i] = keep === 0 ? 0 : s.offsets[2 * keep - 1]!;
  });
});
const sorted = Int32Array.from(lens).sort();
const pctl = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const lengths = { p10: pctl(0.1), p50: pctl(0.5), p90: pctl(0.9), p99: pctl(0.99), max: sorted[sorted.length - 1]! };
const longer = Object.fromEntries(windows.map((L) => [L, Math.round(1000 * lens.filter((x) => x > L).length / lens.length) / 10]));
console.log(`passages ${blocks.length}: input wordpieces p10/50/90/99/max ${Object.values(lengths).join(' / ')}`);
console.log(`% longer than the window: ${windows.map((L) => `${L}: ${longer[L]}`).join(', ')}`);

const bm25 = buildBlockBm25(blocks);
const textOf = (i: number, w: number | null): string => {
  const b = blocks[i]!;
  const end = w === null ? null : keptEnd[w]![i]!;
  return end === null ? `${b.title} ${b.text}` : `${b.title} ${b.text.slice(0, end)}`;
};
const sets = (process.env.SETS ?? 'ct_train:500,wq_train:1000').split(',').map((s) => s.split(':') as [string, string]);
const rows: Record<string, { n: number; full_r20: number; cut_r20: Record<number, number> }> = {};
for (const [name, n] of sets) {
  if (/test/.test(name)) throw new Error(`retrieval-truncation: ${name} is a test split; this diagnostic reads tuning rows only`);
  const qs = loadQaSet(name as 'ct_train').slice(0, Number(n));
  let full = 0;
  const cut = windows.map(() => 0);
  for (const q of qs) {
    const m = answerMatcher(q.answers, q.answerType ?? 'string');
    const ids = Array.from(bm25.search(q.question, 20).ids);
    if (ids.some((i) => m.matches(textOf(i, null)))) full++;
    windows.forEach((_, w) => { if (ids.some((i) => m.matches(textOf(i, w)))) cut[w]!++; });
  }
  const r = (x: number) => Math.round(1000 * x / qs.length) / 10;
  rows[name] = { n: qs.length, full_r20: r(full), cut_r20: Object.fromEntries(windows.map((L, w) => [L, r(cut[w]!)])) };
  console.log(`${name} n=${qs.length} BM25 R@20 judged on the whole passage ${r(full)} | inside the first ${windows.map((L, w) => `${L}: ${r(cut[w]!)}`).join(', ')}`);
}

if (!process.argv.includes('--no-write')) {
  const machine = machineInfo();
  writeJson(join(root, 'bench/results/retrieval-truncation.json'), {
    bench: 'retrieval-truncation', corpus: 'enwiki2015_first300_p100', passages: blocks.length, vocab: vocabPath.replace(root, ''),
    input: '[CLS] title [SEP] text [SEP], wordpieces', lengths, pct_longer_than: longer,
    bm25_r20: rows, bm25: { k1: BM25_DEFAULTS.k1, b: BM25_DEFAULTS.b, stopwords: 'nltk', top: 20 }, machine,
  });
  const table = markdownTable(
    ['rows', 'n', 'whole passage', ...windows.map((L) => `first ${L} wordpieces`)],
    Object.entries(rows).map(([name, r]) => [name, r.n, r.full_r20.toFixed(1), ...windows.map((L) => r.cut_r20[L]!.toFixed(1))]),
  );
  updateMarkdownSection(join(root, 'BENCHMARKS.md'), 'retrieval-truncation', [
    '### Passage length vs the retriever\'s window (issue 5 diagnostic; tuning rows only)',
    '',
    `The ${blocks.length.toLocaleString('en-US')} passages as the retriever reads them (\`[CLS] title [SEP] text [SEP]\`, shipped vocabulary):`,
    `wordpieces p10 / p50 / p90 / p99 / max = ${Object.values(lengths).join(' / ')}; longer than the window: ` +
      windows.map((L) => `${L}: ${longer[L]} %`).join(', ') + '.',
    'BM25 R@20, its top 20 judged on the whole passage vs only on the text inside the first L wordpieces (an answer past',
    'the window is one a retriever reading that window cannot see):',
    '',
    table,
    '',
    `Reproduce: \`node --import tsx bench/retrieval-truncation.ts\` (${machine.date.slice(0, 10)}, bench/results/retrieval-truncation.json).`,
  ].join('\n'));
}
