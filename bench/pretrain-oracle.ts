// Diagnostic: how much of REALM's held-out fill-in is lost in choosing among the candidates (issue 6). One pass of the
// held-out evaluation (src/realm/evaluate.ts, the model's own candidates: k MIPS + its BM25 candidates + null document,
// own document excluded) decides every sentence three ways from the same p(y|z,x):
//   prior    — the model's p(z|x) (the headline's rule; equals pretrain-eval's (a) at the same --k),
//   uniform  — p(z|x) uniform over the null document and the candidates (the reader alone chooses),
//   oracle   — only the candidates whose block contains the answer string (the null document when none does): the
//              accuracy a perfect choice among these candidates would allow this reader; never a result.
//   --hybrid B1,B2,...: for each β, "hybrid@β" = the model's scores + β·BM25(x, z) (the null document + 0; x's BM25 query
//              as for the lexical candidates) and "bm25@β" = β·BM25(x, z) alone — what a lexical term in p(z|x) would do.
//   --null-from DIR: also "prior, null from DIR" = the prior rule with p(y|∅,x) read by DIR's model (e.g. (b)'s reader):
//              what a better null-document reader would give (a).
//   --temperatures T1,T2,...: for each T, "prior@T" = the model's log p(z|x) / T (a softmax temperature on p(z|x)
//              at inference; T -> infinity is the uniform rule).
//   --query-embedder-from FILE: replace the model's query embedder (query_embedder.*) by FILE's before everything
//              (e.g. the ICT init: what REALM's reward did to Embed_input).
// Each also on the sentences whose answer is in a candidate. "misses" splits the sentences whose answer is in a candidate
// but the prior rule misses: "choice" (the oracle fills them: p(z|x) chose wrong), "reader" (the oracle misses too: the
// reader cannot copy it even from the answer blocks), and "outside_window" (no answer block shows the answer's
// wordpieces inside the reader's jointMaxLen window). Validation split by default (the held-out pool outside the
// headline sample); writes only --out, never BENCHMARKS.md.
// Usage:
//   node --import tsx bench/pretrain-oracle.ts --run <realm-a run dir> --model <model dir> --out <json>
//     [--k 4] [--max-n 500] [--split validation|test] [--threads 2] [--seed 1] [--hybrid 0.1,0.3]
//     [--null-from <model dir>] [--query-embedder-from <safetensors>] [--temperatures 0.5,2]
import { join } from 'node:path';
import { loadRealmModel } from '../src/api/realm.js';
import { loadIndexFile, MODEL_FILES } from '../src/api/modelDir.js';
import { DocStore } from '../src/corpus/docstore.js';
import { getBackend } from '../src/engine/index.js';
import { BlockTokenCache } from '../src/realm/batch.js';
import { jointIds } from '../src/realm/kaEncoder.js';
import { evaluateHeldOut, type HeldOutExampleView } from '../src/realm/evaluate.js';
import { LexicalCandidates } from '../src/realm/lexical.js';
import { DocumentGroups } from '../src/realm/retrieval.js';
import { rankFillings, type SpanDistribution } from '../src/realm/spanDistribution.js';
import { loadSafetensors } from '../src/io/safetensors.js';
import { benchOption, exitOnHelp } from './lib/help.js';
import { heldOutSample } from './lib/heldout.js';
import { pct, writeJson } from './lib/report.js';

exitOnHelp(import.meta.url);

function main(): void {
  const run = benchOption('run');
  const dir = benchOption('model');
  const out = benchOption('out');
  if (!run || !dir || !out) throw new Error('--run, --model and --out are required (see --help)');
  const k = Number(benchOption('k') ?? 4);
  const maxN = Number(benchOption('max-n') ?? 500);
  const split = benchOption('split') ?? 'validation';
  if (split !== 'test' && split !== 'validation') throw new Error(`--split must be test or validation, got ${split}`);
  if (!(Number.isInteger(k) && k > 0)) throw new Error('--k must be an integer >= 1');
  getBackend().setThreads(Number(benchOption('threads') ?? 2));

  const { examples, pool } = heldOutSample(run, maxN, Number(benchOption('seed') ?? 1), split);
  const store = DocStore.open(join(run, MODEL_FILES.docs));
  const groups = new DocumentGroups([...store].map((b) => b.docId));
  const { model, tokenizer: tok } = loadRealmModel(dir);
  const index = loadIndexFile(join(dir, MODEL_FILES.index), model.cfg.retriever_proj_size);
  const m = model.opts.lexicalCandidates;
  const banned = (v: number): boolean => tok.isSpecialId(v) || v === tok.maskId;
  const qFrom = benchOption('query-embedder-from');
  if (qFrom) {
    const src = loadSafetensors(qFrom).tensors;
    let n = 0;
    for (const [name, t] of model.parameters()) {
      if (!name.startsWith('query_embedder.')) continue;
      const w = src.get(name);
      if (!w || w.data.length !== t.size) throw new Error(`--query-embedder-from: ${qFrom} has no tensor ${name} of ${t.size} values`);
      t.data.set(w.data);
      n++;
    }
    if (n === 0) throw new Error('--query-embedder-from: the model has no query_embedder.* parameters');
    process.stderr.write(`pretrain-oracle: ${n} query-embedder tensors from ${qFrom}\n`);
  }
  const cache = new BlockTokenCache(store, tok);
  /** Progress of an evaluation pass: redrawn in place on a TTY, a line per tenth of the sentences in a log. */
  const progress = (what: string): ((done: number) => void) => {
    let tenth = 0; // tenths already logged
    return (done) => {
      const n = examples.length;
      if (process.stderr.isTTY) process.stderr.write(`\r  ${what}: ${done}/${n}${done === n ? '\n' : ''}`);
      else if (Math.floor((10 * done) / n) > tenth) {
        tenth = Math.floor((10 * done) / n);
        process.stderr.write(`  ${what}: ${done}/${n}\n`);
      }
    };
  };
  const nullFrom = benchOption('null-from');
  const nullDists: SpanDistribution[] = [];
  if (nullFrom) {
    if (!model.opts.nullDocument) throw new Error('--null-from needs a model with the null document');
    const other = loadRealmModel(nullFrom).model;
    evaluateHeldOut(other, examples, null, cache, store, banned, {
      k: 0, exclude: 'document', groups, batchSize: 8, beam: 5, onExample: (v) => void nullDists.push(v.dists[0]),
      onProgress: progress(`null documents of ${nullFrom}`),
    });
  }

  const betas = (benchOption('hybrid') ?? '').split(',').filter((b) => b !== '').map(Number);
  if (betas.some((b) => !(Number.isFinite(b) && b >= 0))) throw new Error('--hybrid takes non-negative numbers, e.g. 0.1,0.3');
  const lexical = model.needsLexical || betas.length ? LexicalCandidates.fromBlocks(store, tok) : undefined;
  const bm25Of = (v: HeldOutExampleView): number[] => {
    const s = lexical!.bm25.scoreMany(lexical!.query(v.example), v.ids);
    const off = v.logPz.length - v.ids.length; // the null document first
    return v.logPz.map((_, c) => (c < off ? 0 : s[c - off]));
  };
  /** A decision rule: the scores over the candidates (log p(z|x) up to a constant) and, when it changes them, the
   *  candidates' span distributions (--null-from swaps the null document's); `at` is the example's number. */
  type RuleFn = (v: HeldOutExampleView, at: number) => { scores: readonly number[]; dists?: readonly SpanDistribution[] };
  const rules: Record<string, RuleFn> = {
    prior: (v) => ({ scores: v.logPz }),
    uniform: (v) => ({ scores: v.logPz.map(() => 0) }),
    oracle: (v) => {
      const any = v.hasAnswer.some((h) => h);
      return { scores: v.hasAnswer.map((h, c) => (h || (!any && c === 0 && model.opts.nullDocument) ? 0 : -Infinity)) };
    },
  };
  const temps = (benchOption('temperatures') ?? '').split(',').filter((t) => t !== '').map(Number);
  if (temps.some((t) => !(Number.isFinite(t) && t > 0))) throw new Error('--temperatures takes positive numbers, e.g. 0.5,2');
  for (const t of temps) rules[`prior@${t}`] = (v) => ({ scores: v.logPz.map((l) => l / t) });
  for (const b of betas) {
    rules[`hybrid@${b}`] = (v) => { const s = bm25Of(v); return { scores: v.logPz.map((l, c) => l + b * s[c]) }; };
    rules[`bm25@${b}`] = (v) => ({ scores: bm25Of(v).map((x) => b * x) });
  }
  if (nullFrom) rules[`prior, null from ${nullFrom}`] = (v, at) => ({ scores: v.logPz, dists: [nullDists[at], ...v.dists.slice(1)] });
  type Rule = string;
  const names = Object.keys(rules) as Rule[];
  let at = 0; // example number
  const beam = 5; // candidate fillings per document, in the evaluation and in every rule
  const hits = Object.fromEntries(names.map((rule) => [rule, { all: 0, inCandidate: 0 }])) as Record<Rule, { all: number; inCandidate: number }>;
  let inCandidate = 0;
  const misses = { choice: 0, reader: 0, outside_window: 0 };
  /** Whether some answer block shows the answer's wordpieces inside the reader's window (after x). */
  const answerVisible = (v: HeldOutExampleView): boolean => {
    const off = v.hasAnswer.length - v.ids.length;
    const blocks = cache.get(v.ids.filter((_, j) => v.hasAnswer[off + j]));
    return blocks.some((b) => {
      const { ids } = jointIds(tok, v.example.inputIds, b, model.opts.jointMaxLen);
      for (let i = v.example.inputIds.length + 2; i + v.truth.length <= ids.length; i++) {
        if (v.truth.every((t, j) => ids[i + j] === t)) return true;
      }
      return false;
    });
  };
  const r = evaluateHeldOut(model, examples, index, cache, store, banned, {
    k, exclude: 'document', groups, batchSize: 8, beam, lexicalCandidates: m, lexical,
    onExample: (v) => {
      const has = v.hasAnswer.some((h) => h);
      if (has) inCandidate++;
      for (const rule of names) {
        const { scores, dists } = rules[rule](v, at);
        const best = rankFillings(dists ?? v.dists, scores, beam, banned)[0]?.ids ?? [];
        const ok = best.length === v.truth.length && best.every((t, j) => t === v.truth[j]);
        if (rule === 'prior' && ok !== v.correct) throw new Error('the prior rule disagrees with the evaluation');
        if (ok) { hits[rule].all++; if (has) hits[rule].inCandidate++; }
        if (rule === 'oracle' && has && !v.correct) misses[ok ? 'choice' : 'reader']++;
      }
      if (has && !v.correct && !answerVisible(v)) misses.outside_window++;
      at++;
    },
    onProgress: progress('evaluate'),
  });
  store.close();
  const n = r.n;
  const share = (x: number, of: number): number => (of ? x / of : 0);
  const byRule = (f: (rule: Rule) => number): Record<Rule, number> => Object.fromEntries(names.map((rule) => [rule, f(rule)])) as Record<Rule, number>;
  const result = {
    bench: 'pretrain-oracle', split, n, pool, model: dir, ...(qFrom ? { query_embedder_from: qFrom } : {}),
    ...(nullFrom ? { null_from: nullFrom } : {}), candidates: `${k} MIPS${m ? ` + ${m} BM25` : ''} + null document`,
    in_candidate_n: inCandidate,
    acc: byRule((rule) => share(hits[rule].all, n)),
    in_candidate_acc: byRule((rule) => share(hits[rule].inCandidate, inCandidate)),
    misses,
  };
  writeJson(out, result);
  for (const rule of names) {
    process.stderr.write(`  ${rule.padEnd(12)} acc ${pct(result.acc[rule])}   answer in a candidate (n ${inCandidate}): ${pct(result.in_candidate_acc[rule])}\n`);
  }
  process.stderr.write(`  misses with the answer in a candidate: choice ${misses.choice}, reader ${misses.reader} (answer outside the window: ${misses.outside_window})\n`);
  process.stderr.write(`pretrain-oracle: ${n} ${split} sentences; wrote ${out}\n`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`pretrain-oracle: ${(e as Error).message}\n`);
  process.exit(1);
}
