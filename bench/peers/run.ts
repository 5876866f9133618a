// Entry point of one peer's benchmark process (spawned by bench/mips-glove.ts so each peer's resident memory is
// attributable): loads a prepared vecs set, measures RSS after GC, runs the peer, prints one result line on stdout.
// usage: node --expose-gc --import tsx bench/peers/run.ts --peer scann|hnswlib|usearch|flat|exactjs
//          --dir DIR --name glove100n [--quick] [--nq-single 2000] [--scratch DIR] [--scann JSON]
import { mkdirSync } from 'node:fs';
import { readFvecs, readIvecs } from '../lib/fvecs.js';
import { rssAfterGc } from '../lib/metrics.js';
import { peersRequire, RESULT_MARK, type PeerContext, type PeerRecord, type PeerRun } from '../lib/peer.js';
import { runHnswlib } from './hnswlib.js';
import { runUsearch } from './usearch.js';
import { runFlat, runExactJs } from './exact.js';
import { runScann } from './scann.js';

function arg(name: string, dflt?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) {
    if (dflt === undefined) throw new Error(`bench/peers/run.ts: missing --${name}`);
    return dflt;
  }
  const v = process.argv[i + 1];
  return v === undefined || v.startsWith('--') ? 'true' : v;
}

async function main(): Promise<void> {
  const peer = arg('peer');
  const dir = arg('dir'), name = arg('name', 'glove100n');
  const quick = arg('quick', 'false') === 'true';
  const log = (m: string): void => { process.stderr.write(`[${peer}] ${m}\n`); };
  const runs: Record<string, PeerRun> = {
    hnswlib: runHnswlib, usearch: runUsearch, flat: runFlat, exactjs: runExactJs,
    scann: (ctx) => runScann(ctx, JSON.parse(arg('scann', '{}')) as Record<string, never>),
  };
  const run = runs[peer];
  if (!run) throw new Error(`bench/peers/run.ts: unknown --peer ${peer} (one of ${Object.keys(runs).join(', ')})`);
  const base = readFvecs(`${dir}/${name}_base.fvecs`);
  const query = readFvecs(`${dir}/${name}_query.fvecs`);
  const gt = readIvecs(`${dir}/${name}_gt.ivecs`);
  const rssLoadedMB = rssAfterGc();
  log(`${name}: N=${base.n} d=${base.d} nq=${query.n}, RSS with data ${rssLoadedMB.toFixed(0)} MB`);
  const scratchDir = arg('scratch', `${dir}/idx`);
  mkdirSync(scratchDir, { recursive: true });
  const ctx: PeerContext = {
    base: base.data, n: base.n, d: base.d,
    qs: { data: query.data, nq: query.n, d: query.d, gt: gt.data, gtD: gt.d },
    quick,
    sweep: { k: 10, nqSingle: +arg('nq-single', quick ? '500' : '2000'), stopRecall: 0.995, minQps: 150, plateau: false, log },
    require: peersRequire(), scratchDir, log, rssLoadedMB,
  };
  let rec: PeerRecord;
  try {
    rec = await run(ctx);
  } catch (e) {
    rec = { peer, skipped: `failed: ${(e as Error).stack ?? String(e)}` };
  }
  process.stdout.write(RESULT_MARK + JSON.stringify({ ...rec, data: name, N: base.n, D: base.d, nq: query.n }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
