// MIPS growth benchmark (issue 4, "Benchmark" / Growth): the project's ScannIndex build seconds and single-thread
// QPS at recall@10 ~0.90 at 100k, 300k and 1M synthetic clustered vectors x 128 dims (bench/lib/synthetic.ts,
// deterministic, nested sizes), so the cost curve is visible; FlatIndex batched exact q/s alongside. Ground truth
// (exact top-10 of 1,000 queries) is cached per size in bench/.data/. Writes bench/results/mips-growth.json and
// the `mips-growth` section of BENCHMARKS.md.
//
// usage: node --expose-gc --import tsx bench/mips-growth.ts [--sizes 100000,300000,1000000] [--quick] [--nq 1000] [--no-md]
//          [--scann '{"reorders":[100]}'] [--gt-only (compute and cache the ground truth, then exit)]
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readIvecs, writeVecs } from './lib/fvecs.js';
import { groundTruthEngine } from './lib/glove-extra.js';
import { now, rssAfterGc, type QpsSummary } from './lib/metrics.js';
import { peersRequire, type PeerContext, type PeerRecord } from './lib/peer.js';
import { loadProjectIndex } from './lib/project.js';
import { fmtQps, machineInfo, markdownTable, updateMarkdownSection, writeJson } from './lib/report.js';
import { ROOT } from './lib/runner.js';
import { round } from './lib/sweep.js';
import { clusteredVectors, GROWTH_DEFAULTS } from './lib/synthetic.js';
import { runScann, type ScannBenchOptions } from './peers/scann.js';
import { benchOption, exitOnHelp } from './lib/help.js';

exitOnHelp(import.meta.url);

const opt = benchOption;

async function main(): Promise<void> {
  const quick = opt('quick') === 'true';
  const sizes = (opt('sizes') ?? (quick ? '20000,60000' : '100000,300000,1000000')).split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1000)) throw new Error(`--sizes: positive integers >= 1000 expected, got ${opt('sizes')}`);
  const nq = Number(opt('nq') ?? 1000);
  const scannOpts = JSON.parse(opt('scann') ?? '{}') as ScannBenchOptions;
  const log = (m: string): void => { process.stderr.write(`${m}\n`); };
  const g = GROWTH_DEFAULTS, d = g.d;
  const maxN = Math.max(...sizes);
  log(`generating ${maxN} x ${d} clustered vectors (${g.clusters} clusters) + ${nq} queries`);
  const all = clusteredVectors(maxN, 0, g);
  const Q = clusteredVectors(nq, 1, g);
  const dataDir = join(ROOT, 'bench', '.data');
  mkdirSync(dataDir, { recursive: true });
  const gt = await groundTruthEngine(log);
  const api = await loadProjectIndex();
  const machine = machineInfo();
  const rows: Record<string, unknown>[] = [];
  for (const n of sizes) {
    log(`\n=== n = ${n} ===`);
    const base = all.subarray(0, n * d);
    const gtPath = join(dataDir, `growth_s${g.seed}_c${g.clusters}_z${g.noise}_ns${g.normSpread}_d${d}_n${n}_q${nq}_gt.ivecs`);
    if (!existsSync(gtPath)) writeVecs(gtPath, gt.fn(base, n, d, Q, nq, 10), nq, 10);
    if (opt('gt-only') === 'true') { log(`ground truth cached: ${gtPath}`); continue; }
    const gtv = readIvecs(gtPath);
    const ctx: PeerContext = {
      base, n, d, qs: { data: Q, nq, d, gt: gtv.data, gtD: gtv.d }, quick,
      sweep: { k: 10, nqSingle: Math.min(nq, 1000), stopRecall: 0.95, minQps: 100, plateau: false, log },
      require: peersRequire(), scratchDir: dataDir, log, rssLoadedMB: rssAfterGc(),
    };
    const rec: PeerRecord = await runScann(ctx, { reorders: quick ? [100] : [50, 100, 200], ...scannOpts });
    let flatQps: number | null = null;
    if (typeof api !== 'string') {
      const ix = api.flat(base, n, d);
      const m = Math.min(nq, n >= 1e6 ? 200 : 500);
      ix.search(Q.subarray(0, 4 * d), 10);
      const t = now();
      ix.search(Q.subarray(0, m * d), 10);
      flatQps = round(m / (now() - t), 1);
    }
    const s = rec as Partial<QpsSummary> & PeerRecord;
    rows.push({
      n, d, skipped: rec.skipped ?? null, build_s: rec.build_s ?? null, leaves: (rec.params?.partition as { leaves?: number })?.leaves ?? null,
      qps_at_r090: s.qps_r090 ?? null, qps_batch_at_r090: s.qps_batch_r090 ?? null, qps_at_r095: s.qps_r095 ?? null,
      max_recall: s.max_recall ?? null, index_mb: rec.rss_index_mb ?? null, flat_batched_qps: flatQps, sweep: rec.sweep ?? [],
    });
    log(`n=${n}: build ${rec.build_s} s, QPS@0.90 ${s.qps_r090} single / ${s.qps_batch_r090} batch, FlatIndex batched ${flatQps} q/s`);
  }
  if (opt('gt-only') === 'true') return;
  const command = `node --expose-gc --import tsx bench/mips-growth.ts ${process.argv.slice(2).join(' ')}`.trim();
  const result = {
    benchmark: 'mips-growth', machine, command, generator: { ...g, queries: nq, note: 'bench/lib/synthetic.ts clusteredVectors' },
    threads: 1, notes: ['QPS at recall@10 0.90 interpolated on the Pareto frontier (reorder x leavesToSearch)', 'shared 2-core machine: QPS noisy'],
    sizes: rows,
  };
  const out = join(ROOT, 'bench', 'results', quick ? 'mips-growth.quick.json' : 'mips-growth.json');
  writeJson(out, result);
  const md = [
    `## MIPS growth: synthetic clustered vectors x ${d} (ScannIndex, 1 thread)`,
    '',
    `Measured ${machine.date.slice(0, 16).replace('T', ' ')} UTC on ${machine.cpu} (${machine.cpus} cores), load average ${machine.loadavg_1m} ` +
    `(shared machine: QPS noisy). ${g.clusters}-component Gaussian mixture (seed ${g.seed}), ${nq} queries, recall@10 vs exact inner-product top-10.`,
    '',
    `Reproduce: \`${command}\``,
    '',
    markdownTable(['N', 'leaves', 'build s', 'index MB', 'QPS@R0.90 single', 'QPS@R0.90 batch', 'QPS@R0.95 single', 'FlatIndex batched q/s'],
      rows.map((r) => [Number(r.n).toLocaleString('en-US'), r.leaves as number, r.build_s as number, r.index_mb as number,
        fmtQps(r.qps_at_r090 as number), fmtQps(r.qps_batch_at_r090 as number), fmtQps(r.qps_at_r095 as number), fmtQps(r.flat_batched_qps as number)])),
    ...rows.filter((r) => r.skipped).map((r) => `- n = ${r.n}: ScannIndex skipped: ${String(r.skipped).split('\n')[0]}`),
  ].join('\n');
  process.stdout.write(`\n${md}\n\nwrote ${out}\n`);
  if (!quick && opt('no-md') !== 'true') updateMarkdownSection(join(ROOT, 'BENCHMARKS.md'), 'mips-growth', md);
}

main().catch((e) => {
  process.stderr.write(`mips-growth: ${(e as Error).message ?? String(e)}\n`);
  process.exit(1);
});
