// Benchmark: REALM pre-training on held-out Wikipedia sentences (Guu et al. 2020 §4.2 / Table 4 ablations, scaled
// down): whole-span salient fill-in accuracy of (a) REALM (retrieval, k blocks + null document), (b) the same warm
// start and steps trained with the null document only (no retrieval), (c) REALM trained with random-span instead of
// salient-span masking — all three on the SAME held-out salient-masked sentences (documents kept out of every training
// stage by the hash split, data.heldoutFraction). Every block of the sentence's own document is excluded from
// retrieval (exclude 'document': a lead passage cut into two blocks cannot leak through its other half; the knowledge
// corpus is one Wikipedia corpus, enwiki2015_lead100, one lead per title, so no second copy of the article exists).
// Also: retrieval utility of (a) (answer string in the top-1 / any top-k block), the copying upper bound with the own
// block allowed (never the headline), (a)'s own encoder with the null document only, and (a) with MIPS candidates
// only when it was trained with lexical (BM25) candidates (realm.lexicalCandidates; evaluated the same way here).
// Usage:
//   node --import tsx bench/pretrain-eval.ts --run <realm-a run dir> --a <model dir> --b <model dir> --c <model dir>
//     [--max-n 600] [--k 8] [--threads 1] [--seed 1] [--only a,b,c,own,anull,amips,v|none] [--no-write] [--out bench/results/pretrain.json]
//     [--md BENCHMARKS.md] [--merge other.json,...] [--note "..."] [--variant <model dir> --variant-label "..."]
//     [--split test|validation] [--lexical N] [--retriever <weights> --index <index file>] [--prior-temperature T]
// --split validation scores the pool's sentences NOT in the headline sample (the permutation's tail after --max-n), for
// choosing a recipe without reading the headline sentences; it writes only the --out JSON (required), never BENCHMARKS.
// Diagnostics: --lexical N evaluates with N BM25 candidates instead of the model's own setting; --retriever swaps both
// embedders of every model for those of a weight file and --index uses that file's index (built with its Embed_doc);
// --prior-temperature T divides every candidate's score (null document included) by T before the softmax.
// Parts can run in parallel processes (--only b --out /tmp/b.json ...); a last run with --only none --merge ... writes
// the combined results.
// The run dir holds blocks.docs, heldout.json and the salient example cache of run (a) (src/train/realmData.ts). Writes
// bench/results/pretrain.json and the `pretrain` section of BENCHMARKS.md.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRealmModel } from '../src/api/realm.js';
import { loadIndexFile, MODEL_FILES } from '../src/api/modelDir.js';
import { DocStore } from '../src/corpus/docstore.js';
import { getBackend } from '../src/engine/index.js';
import { BlockTokenCache } from '../src/realm/batch.js';
import { evaluateHeldOut, type HeldOutEvalResult } from '../src/realm/evaluate.js';
import { LexicalCandidates } from '../src/realm/lexical.js';
import { DocumentGroups } from '../src/realm/retrieval.js';
import { benchOption, exitOnHelp } from './lib/help.js';
import { heldOutSample } from './lib/heldout.js';
import { machineInfo, markdownTable, pct, updateMarkdownSection, writeJson } from './lib/report.js';

exitOnHelp(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<void> {
  const run = benchOption('run');
  const dirs = { a: benchOption('a'), b: benchOption('b'), c: benchOption('c'), v: benchOption('variant') };
  const variantLabel = benchOption('variant-label') ?? '(a) variant';
  const only = new Set((benchOption('only') ?? 'a,b,c,own,anull,amips,v').split(','));
  // each model directory is needed only by the parts that evaluate it (--only a needs --a alone)
  const users: Record<'a' | 'b' | 'c', string[]> = { a: ['a', 'own', 'anull', 'amips'], b: ['b'], c: ['c'] };
  const missing = (['a', 'b', 'c'] as const).filter((d) => !dirs[d] && users[d].some((key) => only.has(key))).map((d) => `--${d}`);
  if (!run || missing.length) throw new Error(`${[...(run ? [] : ['--run']), ...missing].join(', ')} required (see --help)`);
  const maxN = Number(benchOption('max-n') ?? 600);
  const seed = Number(benchOption('seed') ?? 1);
  getBackend().setThreads(Number(benchOption('threads') ?? 1));
  const noWrite = benchOption('no-write') !== undefined;
  const sampleSplit = benchOption('split') ?? 'test';
  if (sampleSplit !== 'test' && sampleSplit !== 'validation') throw new Error(`--split must be test or validation, got ${sampleSplit}`);
  const outPath = benchOption('out') ?? join(root, 'bench/results/pretrain.json');
  const mdPath = benchOption('md') ?? join(root, 'BENCHMARKS.md');
  const lexicalOverride = benchOption('lexical') === undefined ? undefined : Number(benchOption('lexical'));
  if (lexicalOverride !== undefined && !(Number.isInteger(lexicalOverride) && lexicalOverride >= 0)) throw new Error('--lexical must be an integer >= 0');
  const priorTemperature = benchOption('prior-temperature') === undefined ? undefined : Number(benchOption('prior-temperature'));
  if (priorTemperature !== undefined && !(priorTemperature > 0 && Number.isFinite(priorTemperature))) throw new Error('--prior-temperature must be a positive number');
  const retrieverSwap = benchOption('retriever');
  const indexSwap = benchOption('index');
  if (!retrieverSwap !== !indexSwap) throw new Error('--retriever and --index go together (the index must hold that retriever\'s Embed_doc)');
  if ((sampleSplit === 'validation' || lexicalOverride !== undefined || retrieverSwap || priorTemperature !== undefined) && !benchOption('out') && !noWrite) {
    throw new Error('--split validation, --lexical, --retriever and --prior-temperature need --out (they never write bench/results/pretrain.json or BENCHMARKS.md)');
  }

  const { examples, pool, cache, heldDocs } = heldOutSample(run, maxN, seed, sampleSplit);
  const store = DocStore.open(join(run, MODEL_FILES.docs));
  const docIds = [...store].map((b) => b.docId);
  const groups = new DocumentGroups(docIds);
  process.stderr.write(`pretrain-eval: ${examples.length} of ${pool} held-out salient sentences (${heldDocs} Wikipedia documents), ${store.size} blocks\n`);

  // per-example flags are stored as '0'/'1' strings (one line each in the JSON instead of one line per example)
  type Stored = Omit<HeldOutEvalResult, 'correct' | 'answerInCandidate'> & { correct: string; answerInCandidate: string | null; seconds: number };
  const results: Record<string, Stored> = {};
  let lexical: LexicalCandidates | undefined; // BM25 over the store, built for a model with lexical candidates or a BM25 score term
  const lexicalFor = (tok: ConstructorParameters<typeof LexicalCandidates>[1]): LexicalCandidates => {
    lexical ??= LexicalCandidates.fromBlocks(store, tok);
    return lexical;
  };
  const candidates: Record<string, string> = {};
  const evalOne = (key: string, dir: string | undefined, k: number, exclude: 'document' | 'none', mipsOnly = false): void => {
    if (!only.has(key) || !dir) return;
    const { model, tokenizer: tok } = loadRealmModel(dir);
    if (retrieverSwap) model.initRetrieverFrom(retrieverSwap);
    const m = k > 0 && !mipsOnly ? lexicalOverride ?? model.opts.lexicalCandidates : 0;
    const lexTerm = model.lexicalTermOn ? ` + ${+model.lexicalWeight.data[0].toPrecision(4)} x BM25${model.opts.learnLexicalScoreWeight ? ' (learned)' : ''}` : '';
    candidates[key] = k === 0 ? 'null document only' : `${k} MIPS${m ? ` + ${m} BM25` : ''} blocks + null document, scores x ${+model.scoreScale.toPrecision(4)}${model.opts.learnScoreScale ? " (learned)" : ""}${lexTerm}`;
    const index = k > 0 ? loadIndexFile(indexSwap ?? join(dir, MODEL_FILES.index), model.cfg.retriever_proj_size) : null;
    if (index && index.size !== store.size) throw new Error(`${dir}: index has ${index.size} vectors, store ${store.size} blocks`);
    const banned = (v: number): boolean => tok.isSpecialId(v) || v === tok.maskId;
    const t0 = performance.now();
    const r = evaluateHeldOut(model, examples, index, new BlockTokenCache(store, tok), store, banned, {
      k, exclude, groups, batchSize: 8, lexicalCandidates: m, priorTemperature, lexical: m > 0 || (k > 0 && model.lexicalTermOn) ? lexicalFor(tok) : undefined,
      onProgress: (done) => { if (process.stderr.isTTY) process.stderr.write(`\r  ${key}: ${done}/${examples.length}`); }, // logs: the result line only
    });
    const seconds = (performance.now() - t0) / 1000;
    results[key] = { ...r, correct: r.correct.join(''), answerInCandidate: r.answerInCandidate?.join('') ?? null, seconds };
    process.stderr.write(`${process.stderr.isTTY ? '\r' : ''}  ${key}: acc ${pct(r.accuracy)}, top-1 ${pct(r.top1Contains)}, top-${k} ${pct(r.topkContains)}, p(∅) ${r.meanNullProb.toFixed(3)} (${seconds.toFixed(0)} s)\n`);
  };
  const k = Number(benchOption('k') ?? 8);
  evalOne('a', dirs.a, k, 'document');
  evalOne('b', dirs.b, 0, 'document');
  evalOne('c', dirs.c, k, 'document');
  evalOne('own', dirs.a, k, 'none');
  evalOne('anull', dirs.a, 0, 'document');
  evalOne('amips', dirs.a, k, 'document', true);
  if (dirs.v) evalOne('v', dirs.v, k, 'document');
  store.close();

  // earlier results (this file, then --merge files of runs made in parallel with --only and --out) fill the gaps
  const prev: Record<string, unknown> = { detail: {} };
  for (const f of [outPath, ...(benchOption('merge') ?? '').split(',').filter(Boolean)]) {
    if (!existsSync(f)) continue;
    const j = JSON.parse(readFileSync(f, 'utf8')) as { detail?: object; candidates?: Record<string, string> };
    prev.detail = { ...(prev.detail as object), ...(j.detail ?? {}) };
    for (const [key, v] of Object.entries(j.candidates ?? {})) candidates[key] ??= v; // this run's own entries win
  }
  const get = (key: string): Stored | undefined => results[key] ?? (prev.detail as Record<string, Stored> | undefined)?.[key];
  const flags = (v: string | null | undefined): number[] | null => (typeof v === 'string' ? Array.from(v, Number) : null);
  // does retrieval help when it can? accuracy of (a) and (b) on the sentences where (a)'s candidates hold the answer, and on the rest
  const inCand = flags(get('a')?.answerInCandidate);
  const accOn = (key: string, want: number): number | null => {
    const c = flags(get(key)?.correct);
    if (!inCand || !c || c.length !== inCand.length) return null;
    let n = 0;
    let ok = 0;
    inCand.forEach((f, i) => { if (f === want) { n++; ok += c[i]; } });
    return n ? ok / n : null;
  };
  const split = inCand ? {
    n_answer_in_candidate: inCand.reduce((s, f) => s + f, 0), a_acc_answer_in_candidate: accOn('a', 1), b_acc_answer_in_candidate: accOn('b', 1),
    a_acc_answer_not_in_candidate: accOn('a', 0), b_acc_answer_not_in_candidate: accOn('b', 0),
  } : null;
  // whole-span accuracy by span length M (wordpieces): multi-piece spans are where a reader must copy more than a token
  const lengthOf = (m: number): string => (m >= 4 ? '4+' : String(m));
  const spanLens = examples.map((e) => lengthOf(e.labels.reduce((n, v) => n + (v === -100 ? 0 : 1), 0)));
  const byLength: Record<string, Record<string, number | null>> = {};
  for (const len of ['1', '2', '3', '4+']) {
    const idx = spanLens.flatMap((l, i) => (l === len ? [i] : []));
    const row: Record<string, number | null> = { n: idx.length };
    for (const key of ['a', 'b', 'c', 'own']) {
      const c = flags(get(key)?.correct);
      row[key] = c && c.length === examples.length && idx.length ? idx.reduce((t, i) => t + c[i], 0) / idx.length : null;
    }
    byLength[len] = row;
  }
  const out = {
    bench: 'pretrain',
    split: sampleSplit,
    diagnostics: lexicalOverride !== undefined || retrieverSwap || priorTemperature !== undefined
      ? { lexical: lexicalOverride ?? null, retriever: retrieverSwap ?? null, index: indexSwap ?? null, prior_temperature: priorTemperature ?? null } : null,
    machine: machineInfo(),
    realm_acc: get('a')?.accuracy ?? null,
    no_retrieval_acc: get('b')?.accuracy ?? null,
    random_mask_acc: get('c')?.accuracy ?? null,
    heldout_n: examples.length,
    heldout_pool: pool,
    realm_vs_no_retrieval: get('a') && get('b') && get('b')!.accuracy > 0 ? get('a')!.accuracy / get('b')!.accuracy : null,
    retrieval_top1_contains_answer: get('a')?.top1Contains ?? null,
    retrieval_topk_contains_answer: get('a')?.topkContains ?? null,
    k,
    own_block_allowed_acc: get('own')?.accuracy ?? null,
    own_block_allowed_topk_contains_answer: get('own')?.topkContains ?? null,
    realm_model_null_only_acc: get('anull')?.accuracy ?? null,
    realm_model_mips_only_acc: get('amips')?.accuracy ?? null,
    answer_in_candidate_split: split,
    accuracy_by_span_length: byLength,
    variant: dirs.v ? { label: variantLabel, model: dirs.v, acc: get('v')?.accuracy ?? null } : null,
    candidates,
    exclusion: "every block of the sentence's own document (realm.exclude 'document'), in training and here",
    corpus: 'enwiki2015_lead100 (30,539 lead passages, one per title, cut into blocks of <= 128 wordpieces); held-out documents: FNV-1a hash split, data.heldoutFraction 0.02',
    examples_cache: cache,
    models: dirs,
    note: benchOption('note') ?? null,
    detail: { ...(prev.detail as object | undefined), ...results },
  };
  if (noWrite) {
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  writeJson(outPath, out);
  if (sampleSplit === 'validation' || out.diagnostics) {
    process.stderr.write(`pretrain-eval: wrote ${outPath} (${sampleSplit} split${out.diagnostics ? ', diagnostic settings' : ''}: BENCHMARKS.md untouched)\n`);
    return;
  }
  const absent = ['a', 'b', 'c'].filter((key) => !get(key));
  if (absent.length) { // a part run (--only) without the others: the table would show dashes
    process.stderr.write(`pretrain-eval: wrote ${outPath} (no results for ${absent.join(', ')}: BENCHMARKS.md untouched; a run with --only none --merge <the parts' JSONs> writes the table)\n`);
    return;
  }
  const rows = [
    ['(a) REALM: retrieval, salient-span masking', pct(out.realm_acc), pct(out.retrieval_top1_contains_answer), pct(out.retrieval_topk_contains_answer), get('a')?.meanNullProb.toFixed(3)],
    ['(b) same warm start and steps, null document only', pct(out.no_retrieval_acc), '–', '–', get('b')?.meanNullProb.toFixed(3)],
    ['(c) REALM with random-span masking', pct(out.random_mask_acc), pct(get('c')?.topkContains === undefined ? null : get('c')!.top1Contains), pct(get('c')?.topkContains), get('c')?.meanNullProb.toFixed(3)],
    ['(a) model, null document only (diagnostic)', pct(out.realm_model_null_only_acc), '–', '–', '–'],
    ['(a) model, MIPS candidates only (diagnostic)', pct(out.realm_model_mips_only_acc), pct(get('amips')?.top1Contains ?? null), pct(get('amips')?.topkContains ?? null), get('amips')?.meanNullProb.toFixed(3)],
    ['(a) with its own block allowed (copying upper bound, not a result)', pct(out.own_block_allowed_acc), '–', pct(out.own_block_allowed_topk_contains_answer), get('own')?.meanNullProb.toFixed(3)],
    ...(get('v') ? [[variantLabel, pct(get('v')!.accuracy), pct(get('v')!.top1Contains), pct(get('v')!.topkContains), get('v')!.meanNullProb.toFixed(3)]] : []),
  ];
  const splitLine = split && split.b_acc_answer_in_candidate !== null
    ? `Does retrieval help when it can? On the ${split.n_answer_in_candidate} sentences whose answer is in one of (a)'s candidates, (a) ${pct(split.a_acc_answer_in_candidate)} vs (b) ${pct(split.b_acc_answer_in_candidate)}; on the other ${out.heldout_n - split.n_answer_in_candidate}, (a) ${pct(split.a_acc_answer_not_in_candidate)} vs (b) ${pct(split.b_acc_answer_not_in_candidate)}.`
    : '';
  updateMarkdownSection(mdPath, 'pretrain', [
    '## REALM pre-training: held-out salient-span fill-in',
    '',
    `Whole-span exact match on ${out.heldout_n} held-out salient-masked Wikipedia sentences (sampled from ${out.heldout_pool}; documents never trained on in any stage), candidates: ${candidates.a ?? `k = ${k} retrieved blocks + the null document`}; every block of the sentence's own document excluded from retrieval. "answer in top-1 / in a candidate": the masked string occurs in the index's best block / in any candidate block.`,
    '',
    markdownTable(['model', 'fill-in accuracy', 'answer in top-1', 'answer in a candidate', 'mean p(∅|x)'], rows),
    '',
    `(a) / (b) = ${out.realm_vs_no_retrieval == null ? '–' : out.realm_vs_no_retrieval.toFixed(2)}x (target >= 2x). ${out.note ?? ''}`,
    '',
    ...(splitLine ? [splitLine, ''] : []),
    `By span length (wordpieces; n; (a) / (b) / (c) / own block allowed): ${Object.entries(byLength).map(([len, r]) => `${len}: n ${r.n}, ${pct(r.a)} / ${pct(r.b)} / ${pct(r.c)} / ${pct(r.own)}`).join('; ')}.`,
    '',
    `Reproduce: \`node --import tsx bench/pretrain-eval.ts --run <realm-a run> --a <realm-a>/model --b <realm-b>/model --c <realm-c>/model --max-n ${maxN} --k ${k}\` after training the three models (this table's recipe: configs/realm-evidence.json, its header gives the evidence warm-up command and how (b) and (c) differ; session 4's: configs/realm-lexical.json; the shipped model's: models/default/README.md). Results: bench/results/pretrain.json.`,
  ].join('\n'));
  process.stderr.write(`pretrain-eval: wrote ${outPath} and the pretrain section of ${mdPath}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`pretrain-eval: ${(e as Error).message ?? String(e)}\n`);
  process.exit(1);
});
