// The project's ScannIndex as a peer of the MIPS benchmark (issue 4, "Benchmark"; ScaNN = partition + anisotropic
// 4-bit PQ scored with LUT16 + exact re-rank, Guo et al. 2020): built on 1 thread, then a sweep over
// leavesToSearch for each re-rank depth `reorder`; the reported curve is the Pareto envelope of all series.
import type { PeerContext, PeerRecord } from '../lib/peer.js';
import { loadProjectIndex } from '../lib/project.js';
import { now, rssAfterGc, maxRssMB, summarize, type SweepPoint } from '../lib/metrics.js';
import { sweep, round } from '../lib/sweep.js';

/** ScannIndex benchmark settings (overridable from the command line of bench/mips-glove.ts). */
export interface ScannBenchOptions {
  /** k-means leaves (default ~ 1.75 sqrt(N), 1,000 for GloVe) */
  leaves?: number;
  /** spherical k-means assignment (default true: the unit-norm GloVe set gains ~0.007-0.01 recall@10 at equal
   * leavesToSearch over Euclidean assignment in a dev sweep) */
  spherical?: boolean;
  /** re-rank depths swept (one series each) */
  reorders?: number[];
  /** leavesToSearch values swept within each series */
  leavesToSearch?: number[];
}

/** Builds ScannIndex and sweeps (reorder, leavesToSearch). */
export async function runScann(ctx: PeerContext, o: ScannBenchOptions = {}): Promise<PeerRecord> {
  const api = await loadProjectIndex();
  if (typeof api === 'string') return { peer: 'ScannIndex', skipped: api };
  if (!api.scann) return { peer: 'ScannIndex', skipped: `${api.source} does not export ScannIndex yet` };
  api.setThreads(1);
  const { base, n, d } = ctx;
  const leaves = o.leaves ?? Math.max(16, Math.round((1.75 * Math.sqrt(n)) / 50) * 50);
  const reorders = o.reorders ?? (ctx.quick ? [40, 100] : [40, 70, 100, 160, 250]);
  const lts = (o.leavesToSearch ?? [2, 4, 8, 12, 16, 24, 28, 32, 40, 48, 56, 64, 80, 96, 128, 160, 192, 256]).filter((l) => l <= leaves);
  const build = { partition: { leaves, spherical: o.spherical ?? true }, quantize: {}, rerank: { reorder: reorders[0] } };
  const t = now();
  const ix = api.scann(base, n, d, build);
  const buildS = now() - t;
  const rssBuilt = rssAfterGc();
  // The same after trimHeap() (glibc malloc_trim: the build's freed temporaries go back to the OS), reported
  // separately; the headline index RSS above is untrimmed like every other peer's.
  if (api.trimHeap) api.trimHeap();
  const rssTrimmed = rssAfterGc();
  ctx.log(`  ScannIndex build ${buildS.toFixed(2)} s (leaves ${leaves}${build.partition.spherical ? ', spherical' : ''}), index RSS ${(rssBuilt - ctx.rssLoadedMB).toFixed(0)} MB (${(rssTrimmed - ctx.rssLoadedMB).toFixed(0)} MB after trimHeap)`);
  const all: SweepPoint[] = [];
  const series: Record<string, ReturnType<typeof summarize>> = {};
  for (const reorder of reorders) {
    ctx.log(` [reorder ${reorder}]`);
    const pts = sweep(ctx.qs, lts, (leavesToSearch) => {
      const params = { leavesToSearch, reorder };
      return {
        one(q, k, out, off) { out.set(ix.search(q, k, params).ids.subarray(0, k), off); },
        batch(Q, nq, k, out) { out.set(ix.search(Q, k, params).ids.subarray(0, nq * k)); },
      };
    }, { ...ctx.sweep, plateau: true, plateauRel: 0 }); // stop at the re-rank depth's ceiling only
    for (const p of pts) all.push({ ...p, param: { leavesToSearch: p.param, reorder } });
    series[`reorder${reorder}`] = summarize(pts);
  }
  return {
    peer: 'ScannIndex', version: api.source, params: { ...build, threads: 1, kernels: api.native ? 'native' : 'js', sweep: 'reorder x leavesToSearch (envelope)' },
    build_s: round(buildS, 2), rss_loaded_mb: Math.round(ctx.rssLoadedMB), rss_index_mb: Math.round(rssBuilt - ctx.rssLoadedMB), rss_index_trimmed_mb: Math.round(rssTrimmed - ctx.rssLoadedMB),
    rss_mb: Math.round(rssBuilt), max_rss_mb: Math.round(maxRssMB()), sweep: all, ...summarize(all), series,
  };
}
