// hnswlib-node peer of the MIPS benchmark (issue 4, "Benchmark"): HNSW (M 16, efConstruction 200, inner product),
// built single-threaded, ef swept. hnswlib-node 3.x takes only plain number[], so the Array.from(q) per query is
// inside the timing (as in ../shared/bench/ann/bench.mjs); it has no batch API.
import type { PeerContext, PeerRecord } from '../lib/peer.js';
import { peerVersion } from '../lib/peer.js';
import { now, rssAfterGc, maxRssMB, summarize } from '../lib/metrics.js';
import { sweep, round } from '../lib/sweep.js';

interface Hnsw {
  initIndex(maxElements: number, m: number, efConstruction: number, randomSeed: number): void;
  addPoint(point: number[], label: number): void;
  setEf(ef: number): void;
  searchKnn(q: number[], k: number): { neighbors: number[]; distances: number[] };
}

const M = 16, EFC = 200;
const EFS = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024];

/** Builds and sweeps hnswlib-node. */
export async function runHnswlib(ctx: PeerContext): Promise<PeerRecord> {
  const version = peerVersion(ctx.require, 'hnswlib-node');
  if (!version) return { peer: 'hnswlib-node', skipped: 'not installed: run `npm install --prefix bench/peers`' };
  const { HierarchicalNSW } = ctx.require('hnswlib-node') as { HierarchicalNSW: new (space: string, dim: number) => Hnsw };
  const { base, n, d } = ctx;
  const idx = new HierarchicalNSW('ip', d);
  const t = now();
  idx.initIndex(n, M, EFC, 100);
  for (let i = 0; i < n; i++) {
    idx.addPoint(Array.from(base.subarray(i * d, (i + 1) * d)), i);
    if (i % 50000 === 49999) ctx.log(`  hnswlib: added ${i + 1}/${n} (${(now() - t).toFixed(0)} s)`);
  }
  const build = now() - t;
  const rssBuilt = rssAfterGc();
  ctx.log(`  hnswlib build ${build.toFixed(1)} s, index RSS ${(rssBuilt - ctx.rssLoadedMB).toFixed(0)} MB`);
  const pts = sweep(ctx.qs, ctx.quick ? EFS.filter((e) => e <= 256) : EFS, (ef) => {
    idx.setEf(Math.max(ef, ctx.sweep.k));
    return {
      one(q, k, out, off) {
        const r = idx.searchKnn(Array.from(q), k);
        for (let j = 0; j < k; j++) out[off + j] = j < r.neighbors.length ? r.neighbors[j] : -1;
      },
    };
  }, ctx.sweep);
  return {
    peer: 'hnswlib-node', version, params: { M, efConstruction: EFC, space: 'ip', build_threads: 1, sweep: 'ef' },
    build_s: round(build, 2), rss_loaded_mb: Math.round(ctx.rssLoadedMB), rss_index_mb: Math.round(rssBuilt - ctx.rssLoadedMB),
    rss_mb: Math.round(rssBuilt), max_rss_mb: Math.round(maxRssMB()), sweep: pts, ...summarize(pts),
    notes: ['no batch API; single-query QPS over all queries, Array.from(q) inside the timing'],
  };
}
