// Retrieval-utility diagnostic for the REALM pre-training evaluation (issue 6; Guu et al. 2020 §4.2 measure how often
// the retrieved block holds the masked answer): on the SAME held-out salient-masked sentences as bench/pretrain-eval.ts,
// how often a BM25 retriever (Robertson k1 0.9 / b 0.4, src/retriever/bm25.ts) over the same knowledge blocks finds a
// block that contains the masked answer string, in its top-1 and top-k, with every block of the sentence's own
// document excluded (the headline setting) and with it allowed (the copying bound). The query is the sentence with its
// [MASK] pieces dropped. This is the ceiling a lexical retriever gives the reader: if it is low, no retriever makes
// REALM (a) >= 2x (b) on this corpus; if it is well above the neural retriever's figure, the retriever is the gap.
// Usage:
//   node --import tsx bench/pretrain-bm25.ts --run <realm-a run dir> [--model <dir with vocab.txt>] [--max-n 500]
//     [--k 8] [--seed 1] [--reader <REALM model dir>] [--threads 1] [--no-write] [--out bench/results/pretrain-bm25.json]
//     [--md BENCHMARKS.md]
// --reader: also evaluates that REALM model's reader on BM25's candidates (scored by its own embedders for p(z|x)),
// own document excluded and allowed: whether the reader uses evidence when a retriever hands it over.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODEL_FILES } from '../src/api/modelDir.js';
import { DocStore } from '../src/corpus/docstore.js';
import { getBackend } from '../src/engine/index.js';
import { loadRealmModel } from '../src/api/realm.js';
import { BlockTokenCache, type RealmExample } from '../src/realm/batch.js';
import { blockContainsAnswer, evaluateHeldOut, type HeldOutEvalResult } from '../src/realm/evaluate.js';
import { LexicalCandidates } from '../src/realm/lexical.js';
import { DocumentGroups } from '../src/realm/retrieval.js';
import { BertTokenizer } from '../src/tokenizer/index.js';
import { benchOption, exitOnHelp } from './lib/help.js';
import { heldOutSample } from './lib/heldout.js';
import { machineInfo, markdownTable, pct, updateMarkdownSection, writeJson } from './lib/report.js';

exitOnHelp(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<void> {
  const run = benchOption('run');
  if (!run) throw new Error('pretrain-bm25: --run <realm-a run dir> is required (see --help)');
  const modelDir = benchOption('model') ?? join(run, 'model');
  const maxN = Number(benchOption('max-n') ?? 500);
  const k = Number(benchOption('k') ?? 8);
  const seed = Number(benchOption('seed') ?? 1);
  const outPath = benchOption('out') ?? join(root, 'bench/results/pretrain-bm25.json');
  const mdPath = benchOption('md') ?? join(root, 'BENCHMARKS.md');

  // The same sample as bench/pretrain-eval.ts (same seed, same permutation of the same pool).
  const { examples, pool } = heldOutSample(run, maxN, seed);
  const tok = BertTokenizer.fromVocabFile(join(modelDir, 'vocab.txt'));
  const store = DocStore.open(join(run, MODEL_FILES.docs));
  const blocks = [...store];
  const groups = new DocumentGroups(blocks.map((b) => b.docId));
  const t0 = performance.now();
  const lexical = LexicalCandidates.fromBlocks(blocks, tok); // BM25 and the query exactly as REALM's lexical candidates
  process.stderr.write(`pretrain-bm25: BM25 over ${store.size} blocks in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${examples.length} of ${pool} held-out sentences\n`);

  const tally = { docExcluded: { top1: 0, topk: 0 }, ownAllowed: { top1: 0, topk: 0, ownInTopk: 0 } };
  const lists = new Map<RealmExample, { excl: number[]; allowed: number[] }>();
  const depth = k + 64; // enough hits to fill k after dropping the own document's blocks
  for (const e of examples) {
    const has = (id: number): boolean => blockContainsAnswer(blocks[id], e.answer); // as evaluateHeldOut counts it
    const hits = Array.from(lexical.bm25.search(lexical.query(e), depth).ids);
    const own = new Set(groups.sameDocument(e.sourceBlockId!));
    const excl = hits.filter((id) => !own.has(id)).slice(0, k);
    const allowed = hits.slice(0, k);
    lists.set(e, { excl, allowed });
    if (excl.length && has(excl[0])) tally.docExcluded.top1++;
    if (excl.some(has)) tally.docExcluded.topk++;
    if (allowed.length && has(allowed[0])) tally.ownAllowed.top1++;
    if (allowed.some(has)) tally.ownAllowed.topk++;
    if (allowed.includes(e.sourceBlockId!)) tally.ownAllowed.ownInTopk++;
  }
  // The reader of a trained REALM model on BM25's candidates (diagnostic).
  const readerDir = benchOption('reader');
  const reader: Record<string, HeldOutEvalResult & { seconds: number }> = {};
  if (readerDir) {
    getBackend().setThreads(Number(benchOption('threads') ?? 1));
    const { model, tokenizer } = loadRealmModel(readerDir);
    const cache = new BlockTokenCache(store, tokenizer);
    const bannedId = (v: number): boolean => tokenizer.isSpecialId(v) || v === tokenizer.maskId;
    for (const mode of ['excl', 'allowed'] as const) {
      const t1 = performance.now();
      const r = evaluateHeldOut(model, examples, null, cache, store, bannedId, {
        k, exclude: mode === 'excl' ? 'document' : 'none', batchSize: 8,
        candidates: (batch) => batch.map((e) => lists.get(e)![mode]),
        onProgress: (done) => process.stderr.write(`\r  reader on BM25 (${mode}): ${done}/${examples.length}`),
      });
      reader[mode] = { ...r, seconds: (performance.now() - t1) / 1000 };
      process.stderr.write(`\r  reader on BM25 (${mode}): acc ${pct(r.accuracy)}, top-${k} ${pct(r.topkContains)}\n`);
    }
  }
  store.close();
  const n = examples.length;
  const out = {
    bench: 'pretrain-bm25',
    machine: machineInfo(),
    heldout_n: n,
    heldout_pool: pool,
    k,
    blocks: blocks.length,
    bm25_top1_contains_answer: tally.docExcluded.top1 / n,
    bm25_topk_contains_answer: tally.docExcluded.topk / n,
    own_allowed_bm25_top1_contains_answer: tally.ownAllowed.top1 / n,
    own_allowed_bm25_topk_contains_answer: tally.ownAllowed.topk / n,
    own_allowed_source_block_in_topk: tally.ownAllowed.ownInTopk / n,
    query: 'the masked sentence without its [MASK] pieces (decoded wordpieces)',
    exclusion: "every block of the sentence's own document (as realm.exclude 'document')",
    reader_model: readerDir ?? null,
    reader_on_bm25_acc: reader.excl?.accuracy ?? null,
    reader_on_bm25_own_allowed_acc: reader.allowed?.accuracy ?? null,
    reader_detail: reader,
  };
  if (benchOption('no-write') !== undefined) {
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  writeJson(outPath, out);
  updateMarkdownSection(mdPath, 'pretrain-bm25', [
    '### Retrieval utility ceiling: BM25 on the same held-out sentences',
    '',
    `How often a lexical retriever finds a block containing the masked answer, on the same ${n} held-out sentences as the table above (query: the sentence without its masked pieces; ${blocks.length} knowledge blocks).`,
    '',
    markdownTable(['retriever', 'answer in top-1', `answer in top-${k}`, `source block in top-${k}`], [
      ['BM25, own document excluded (as the headline)', pct(out.bm25_top1_contains_answer), pct(out.bm25_topk_contains_answer), '–'],
      ['BM25, own block allowed (copying bound)', pct(out.own_allowed_bm25_top1_contains_answer), pct(out.own_allowed_bm25_topk_contains_answer), pct(out.own_allowed_source_block_in_topk)],
    ]),
    '',
    ...(readerDir ? [
      `Reader of \`${readerDir}\` (model (a)) on BM25's top-${k} instead of its own retrieval (its embedders still give p(z|x)): fill-in accuracy ${pct(out.reader_on_bm25_acc)} with the own document excluded, ${pct(out.reader_on_bm25_own_allowed_acc)} with it allowed (copying bound).`,
      '',
    ] : []),
    `Reproduce: \`node --import tsx bench/pretrain-bm25.ts --run <realm-a run> --max-n ${maxN}${readerDir ? ' --reader <realm-a>/model' : ''}\`. Results: bench/results/pretrain-bm25.json.`,
  ].join('\n'));
  process.stderr.write(`pretrain-bm25: wrote ${outPath} and the pretrain-bm25 section of ${mdPath}\n`);
  process.stderr.write(`  doc excluded: top-1 ${pct(out.bm25_top1_contains_answer)}, top-${k} ${pct(out.bm25_topk_contains_answer)}; own allowed: top-${k} ${pct(out.own_allowed_bm25_topk_contains_answer)}, source block in top-${k} ${pct(out.own_allowed_source_block_in_topk)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`pretrain-bm25: ${(e as Error).message ?? e}\n`);
  process.exit(1);
});
