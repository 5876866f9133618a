// Exact-search peers of the MIPS benchmark (issue 4, "Benchmark"): the project's FlatIndex batched on 1 thread
// (target: >= faiss IndexFlatIP batched) and the plain-JS blocked exact loop (bench/lib/exact.ts), one query per
// call and batched. Both have recall 1.0 by construction (checked against the ground truth).
import type { PeerContext, PeerRecord } from '../lib/peer.js';
import { exactTopK } from '../lib/exact.js';
import { loadProjectIndex } from '../lib/project.js';
import { now, recallAtK, rssAfterGc, maxRssMB, spreadRows } from '../lib/metrics.js';
import { round } from '../lib/sweep.js';

/** Exact rate of one configuration. */
interface ExactRate { nq: number; qps: number; recall: number; gflops: number; threads: number }

function rate(ctx: PeerContext, rows: Int32Array, run: (Q: Float32Array, nq: number) => Int32Array, threads: number): ExactRate {
  const { d, qs } = ctx, k = ctx.sweep.k;
  const Q = new Float32Array(rows.length * d);
  rows.forEach((r, i) => Q.set(qs.data.subarray(r * d, (r + 1) * d), i * d));
  run(Q.subarray(0, Math.min(4, rows.length) * d), Math.min(4, rows.length)); // warm-up
  const t = now();
  const ids = run(Q, rows.length);
  const qps = rows.length / (now() - t);
  const recall = recallAtK(ids, qs.gt, qs.gtD, rows.length, k, rows);
  return { nq: rows.length, qps: round(qps, 1), recall: round(recall, 4), gflops: round((2 * ctx.n * d * qps) / 1e9, 2), threads };
}

/** Our FlatIndex: batched exact search of all queries on 1 thread (and one query per call on a subset). */
export async function runFlat(ctx: PeerContext): Promise<PeerRecord> {
  const api = await loadProjectIndex();
  if (typeof api === 'string') return { peer: 'FlatIndex', skipped: api };
  api.setThreads(1);
  const t = now();
  const ix = api.flat(ctx.base, ctx.n, ctx.d);
  const build = now() - t;
  const rssBuilt = rssAfterGc();
  const k = ctx.sweep.k;
  // batch size: all queries unless that would take > ~40 s at the rate of a 200-query probe (then a spread subset)
  const probe = rate(ctx, spreadRows(ctx.qs.nq, Math.min(200, ctx.qs.nq)), (Q) => ix.search(Q, k).ids, 1);
  const nBatch = Math.min(ctx.qs.nq, Math.max(200, Math.round(probe.qps * (ctx.quick ? 10 : 40))));
  const singleRows = spreadRows(ctx.qs.nq, Math.min(ctx.quick ? 100 : 1000, Math.max(50, Math.round(probe.qps * 5))));
  const batch = rate(ctx, spreadRows(ctx.qs.nq, nBatch), (Q) => ix.search(Q, k).ids, 1);
  ctx.log(`  FlatIndex batch ${batch.nq}: ${batch.qps} q/s (${batch.gflops} GFLOP/s) recall ${batch.recall}`);
  const single = rate(ctx, singleRows, (Q, nq) => {
    const out = new Int32Array(nq * k);
    for (let i = 0; i < nq; i++) out.set(ix.search(Q.subarray(i * ctx.d, (i + 1) * ctx.d), k).ids, i * k);
    return out;
  }, 1);
  ctx.log(`  FlatIndex single: ${single.qps} q/s recall ${single.recall}`);
  return {
    peer: 'FlatIndex', version: api.source, params: { metric: 'ip', threads: 1, kernels: api.native ? 'native' : 'js' }, build_s: round(build, 3),
    rss_loaded_mb: Math.round(ctx.rssLoadedMB), rss_index_mb: Math.round(rssBuilt - ctx.rssLoadedMB),
    rss_mb: Math.round(rssBuilt), max_rss_mb: Math.round(maxRssMB()), exact: { batch, single },
  };
}

/** Plain-JS exact loop (no index): one query per call and blocks of 8 queries. */
export async function runExactJs(ctx: PeerContext): Promise<PeerRecord> {
  const { base, n, d } = ctx, k = ctx.sweep.k;
  const nq = ctx.quick ? 50 : 200;
  const single = rate(ctx, spreadRows(ctx.qs.nq, nq), (Q, m) => {
    const out = new Int32Array(m * k);
    for (let i = 0; i < m; i++) out.set(exactTopK(base, n, d, Q.subarray(i * d, (i + 1) * d), 1, k, undefined, 1).ids, i * k);
    return out;
  }, 1);
  ctx.log(`  exact JS single: ${single.qps} q/s`);
  const batch = rate(ctx, spreadRows(ctx.qs.nq, nq), (Q, m) => exactTopK(base, n, d, Q, m, k, undefined, 8).ids, 1);
  ctx.log(`  exact JS blocked (8 queries): ${batch.qps} q/s`);
  return {
    peer: 'exact-js', version: `node ${process.version}`, params: { metric: 'ip', threads: 1, block: 8 },
    rss_loaded_mb: Math.round(ctx.rssLoadedMB), exact: { batch, single },
  };
}
